//! Microsoft's Azure predictive-maintenance data set: five CSV tables of 100 machines over 2015.
//!
//! | table | columns | row |
//! |---|---|---|
//! | `PdM_telemetry.csv` | datetime, machineID, volt, rotate, pressure, vibration | [`Telemetry`] |
//! | `PdM_errors.csv` | datetime, machineID, errorID | [`Stamped`] |
//! | `PdM_failures.csv` | datetime, machineID, failure | [`Stamped`] |
//! | `PdM_maint.csv` | datetime, machineID, comp | [`Stamped`] |
//! | `PdM_machines.csv` | machineID, model, age | [`MachineInfo`] |
//!
//! Columns are found by header name (case-insensitive, quotes and spaces trimmed), in any order.
//! Times are local and carry no offset: [`Stamped::local_ms`] is the time read as if it were UTC,
//! in milliseconds; the caller applies the plant's offset. Units of the telemetry (the data set's
//! own): volt V, rotate rev/min, pressure kPa, vibration mm/s.

use crate::RowError;
use std::collections::BTreeMap;

/// One table of the data set, with its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Telemetry,
    Errors,
    Failures,
    Maintenance,
    Machines,
}

impl Table {
    pub fn file_name(self) -> &'static str {
        match self {
            Table::Telemetry => "PdM_telemetry.csv",
            Table::Errors => "PdM_errors.csv",
            Table::Failures => "PdM_failures.csv",
            Table::Maintenance => "PdM_maint.csv",
            Table::Machines => "PdM_machines.csv",
        }
    }

    /// The short name errors are located by (`telemetry`, `errors`, `failures`, `maint`,
    /// `machines`).
    pub fn name(self) -> &'static str {
        match self {
            Table::Telemetry => "telemetry",
            Table::Errors => "errors",
            Table::Failures => "failures",
            Table::Maintenance => "maint",
            Table::Machines => "machines",
        }
    }

    /// The column of a [`Stamped`] table that names what happened.
    fn what_column(self) -> &'static str {
        match self {
            Table::Errors => "errorid",
            Table::Failures => "failure",
            _ => "comp",
        }
    }
}

/// An hourly telemetry reading; a signal that is absent or not a finite number is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Telemetry {
    pub line: usize,
    pub local_ms: i64,
    pub machine: u32,
    pub volt: Option<f64>,
    pub rotate_rev_per_min: Option<f64>,
    pub pressure_kpa: Option<f64>,
    pub vibration_mm_per_s: Option<f64>,
}

/// Something that happened to a machine at a time: an error (`error1`..`error5`), a failure of a
/// component or a component replaced in maintenance (`comp1`..`comp4`).
#[derive(Debug, Clone, PartialEq)]
pub struct Stamped {
    pub line: usize,
    pub local_ms: i64,
    pub machine: u32,
    /// The error's or the component's name, as written.
    pub what: String,
}

/// A machine's model (`model3`) and age in years.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineInfo {
    pub line: usize,
    pub machine: u32,
    pub model: String,
    pub age_years: f64,
}

/// The rows of a table and the rows that could not be read.
pub type Rows<T> = (Vec<T>, Vec<RowError>);

/// One record's fields by column name.
struct Fields<'a> {
    columns: &'a BTreeMap<String, usize>,
    record: &'a csv::StringRecord,
}

impl Fields<'_> {
    /// The field of column `name` (lower case), without quotes; empty where there is none.
    fn get(&self, name: &str) -> &str {
        self.columns
            .get(name)
            .and_then(|&c| self.record.get(c))
            .unwrap_or("")
            .trim_matches('"')
    }
}

/// Reads a table's CSV text, calling `row` with a column getter for each record.
fn read<T>(
    table: Table,
    text: &str,
    row: impl Fn(usize, &Fields<'_>) -> Result<T, String>,
) -> Rows<T> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let columns: BTreeMap<String, usize> = reader
        .headers()
        .map(|h| {
            h.iter()
                .enumerate()
                .map(|(i, name)| (name.trim_matches('"').trim().to_lowercase(), i))
                .collect()
        })
        .unwrap_or_default();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let fallback_line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(fallback_line, |p| p.line() as usize);
                errors.push(RowError {
                    table: table.name(),
                    line,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let line = record
            .position()
            .map_or(fallback_line, |p| p.line() as usize);
        let fields = Fields {
            columns: &columns,
            record: &record,
        };
        match row(line, &fields) {
            Ok(r) => rows.push(r),
            Err(reason) => errors.push(RowError {
                table: table.name(),
                line,
                reason,
            }),
        }
    }
    (rows, errors)
}

fn local_ms(fields: &Fields<'_>) -> Result<i64, String> {
    let text = fields.get("datetime");
    takt_model::time::parse_local_ms(text, 0)
        .ok_or_else(|| format!("datetime: `{text}` is not a YYYY-MM-DD HH:MM:SS time"))
}

fn machine(fields: &Fields<'_>) -> Result<u32, String> {
    match fields.get("machineid") {
        "" => Err("machineID: missing".into()),
        text => text
            .parse()
            .map_err(|_| format!("machineID: `{text}` is not a whole number")),
    }
}

/// `PdM_telemetry.csv`.
pub fn telemetry(text: &str) -> Rows<Telemetry> {
    read(Table::Telemetry, text, |line, fields| {
        let signal = |name: &str| {
            fields
                .get(name)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
        };
        Ok(Telemetry {
            line,
            local_ms: local_ms(fields)?,
            machine: machine(fields)?,
            volt: signal("volt"),
            rotate_rev_per_min: signal("rotate"),
            pressure_kpa: signal("pressure"),
            vibration_mm_per_s: signal("vibration"),
        })
    })
}

/// `PdM_errors.csv`, `PdM_failures.csv` or `PdM_maint.csv` (`table` says which).
pub fn stamped(table: Table, text: &str) -> Rows<Stamped> {
    read(table, text, |line, fields| {
        let what = fields.get(table.what_column());
        if what.is_empty() {
            return Err(format!("{}: missing", table.what_column()));
        }
        Ok(Stamped {
            line,
            local_ms: local_ms(fields)?,
            machine: machine(fields)?,
            what: what.to_string(),
        })
    })
}

/// `PdM_machines.csv`.
pub fn machines(text: &str) -> Rows<MachineInfo> {
    read(Table::Machines, text, |line, fields| {
        let age = fields.get("age");
        Ok(MachineInfo {
            line,
            machine: machine(fields)?,
            model: fields.get("model").to_string(),
            age_years: age
                .parse()
                .ok()
                .filter(|a: &f64| a.is_finite() && *a >= 0.0)
                .ok_or_else(|| format!("age: `{age}` is not a number of years"))?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_by_header_and_bad_ones_located() {
        let (rows, bad) = telemetry(
            "datetime,machineID,volt,rotate,pressure,vibration\n\
             2015-01-01 06:00:00,1,176.2,418.5,113.1,45.1\n\
             2015-01-01 07:00:00,x,1,2,3,4\n\
             2015-01-01 08:00:00,2,NaN,,,\n",
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].local_ms, 1_420_092_000_000);
        assert_eq!(rows[0].rotate_rev_per_min, Some(418.5));
        assert_eq!((rows[1].line, rows[1].volt), (4, None));
        assert_eq!(bad[0].line, 3);
        assert_eq!(
            bad[0].to_string(),
            "telemetry, line 3: machineID: `x` is not a whole number"
        );

        let (rows, bad) = stamped(
            Table::Failures,
            "\"machineID\",\"datetime\",\"failure\"\n1,2015-01-05 06:00:00,\"comp4\"\n1,not a date,comp1\n",
        );
        assert_eq!((rows[0].machine, rows[0].what.as_str()), (1, "comp4"));
        assert_eq!((bad[0].line, bad[0].table), (3, "failures"));
        assert!(
            bad[0].reason.starts_with("datetime: `not a date`"),
            "{bad:?}"
        );

        let (rows, bad) = machines("machineID,model,age\n1,model3,18\n2,model4,-1\n");
        assert_eq!(
            (rows[0].model.as_str(), rows[0].age_years),
            ("model3", 18.0)
        );
        assert_eq!(bad.len(), 1);
    }
}
