//! Reading scenario files. Each top-level section, and each item of a list section, is deserialized on
//! its own, so that one broken station does not hide the problems of the next; then the whole is
//! compiled. Every problem comes back with its file, line, column and field path.

use crate::compile::compile;
use crate::model::Model;
use crate::scenario::*;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// A problem with its place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based; 0 when the place is unknown.
    pub line: usize,
    pub column: usize,
    /// Field path such as `stations[2].failures[0].ttr`; empty for syntax errors.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 && self.column > 0 {
            write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        } else if self.line > 0 {
            // A CSV line: its field is named by the path instead of a column.
            write!(f, "{}:{}: ", self.file.display(), self.line)?;
        } else {
            write!(f, "{}: ", self.file.display())?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Everything wrong with a scenario, in file order.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The reason is in the message, not a `source` too: an error chain printed whole (`{:#}`)
    /// would say it twice.
    #[error("cannot read {}: {reason}", path.display())]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("{} problem(s) in the scenario:\n{}", .0.len(), .0.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
}

impl ScenarioError {
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ScenarioError::Invalid(d) => d,
            ScenarioError::Read { .. } => &[],
        }
    }
}

/// A scenario as read, and its compiled model.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub scenario: Scenario,
    pub model: Model,
}

/// Reads, checks and compiles a scenario file; a CSV order book it names is read relative to it.
pub fn load_file(path: &Path) -> Result<Loaded, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|reason| ScenarioError::Read {
        path: path.to_path_buf(),
        reason,
    })?;
    load_str(&text, path, path.parent())
}

/// Like [`load_file`] for text in memory; `origin` names it in diagnostics. With `base_dir` `None`
/// the text may name no file (see [`compile_located`]).
pub fn load_str(
    text: &str,
    origin: &Path,
    base_dir: Option<&Path>,
) -> Result<Loaded, ScenarioError> {
    let scenario = parse_scenario(text, origin)?;
    compile_located(scenario, text, origin, base_dir)
}

/// Compiles an already parsed scenario (for instance one changed by what-if overrides); `text`, when
/// given, is the file the diagnostics' lines refer to.
///
/// `base_dir` is where the files a scenario names (its `orders_csv`) are read from. `None` means the
/// scenario came from outside (an HTTP request): it may name no file at all, and one that does is
/// refused with a diagnostic before anything is opened, whatever the path (or the override that set
/// it) says. This is the one place the model reads a file a scenario names.
pub fn compile_located(
    mut scenario: Scenario,
    text: &str,
    origin: &Path,
    base_dir: Option<&Path>,
) -> Result<Loaded, ScenarioError> {
    if scenario.demand.orders_csv.is_some() && base_dir.is_none() {
        let locator = (!text.is_empty())
            .then(|| DeTable::parse(text).ok())
            .flatten();
        let (line, column) = locator
            .as_ref()
            .map_or((0, 0), |t| line_col(text, locate(t, "demand.orders_csv")));
        return Err(ScenarioError::Invalid(vec![Diagnostic {
            file: origin.to_path_buf(),
            line,
            column,
            path: "demand.orders_csv".into(),
            message: "this scenario may not name a file: put the orders inline in \
                      `[demand] orders` instead of a CSV file"
                .into(),
        }]));
    }
    let mut diagnostics = Vec::new();
    // Orders from the CSV follow the inline ones; a problem the compiler finds with one of them
    // (`demand.orders[i]`, i past the inline ones) is reported at its CSV line.
    let inline_orders = scenario.demand.orders.len();
    let mut csv_lines = Vec::new();
    let mut csv_file = PathBuf::new();
    if let (Some(csv), Some(base_dir)) = (scenario.demand.orders_csv.clone(), base_dir) {
        csv_file = base_dir.join(&csv);
        // The good rows are compiled with the rest even when others are bad, so that every
        // problem of the book is found in one pass.
        let (rows, mut problems) = crate::order_book::read_order_book(&csv_file);
        diagnostics.append(&mut problems);
        for (order, line) in rows {
            scenario.demand.orders.push(order);
            csv_lines.push(line);
        }
    }
    let csv_place = |path: &str| -> Option<(usize, String)> {
        let rest = path.strip_prefix("demand.orders[")?;
        let (index, field) = rest.split_once(']')?;
        let index: usize = index.parse().ok()?;
        let line = *csv_lines.get(index.checked_sub(inline_orders)?)?;
        Some((line, field.trim_start_matches('.').to_string()))
    };
    // Without the text (a scenario changed by overrides) problems carry their field paths only.
    let locator = (!text.is_empty())
        .then(|| DeTable::parse(text).ok())
        .flatten();
    match compile(&scenario) {
        Ok(model) if diagnostics.is_empty() => Ok(Loaded { scenario, model }),
        Ok(_) => Err(ScenarioError::Invalid(diagnostics)),
        Err(problems) => {
            diagnostics.extend(problems.into_iter().map(|p| {
                if let Some((line, field)) = csv_place(&p.path) {
                    return Diagnostic {
                        file: csv_file.clone(),
                        line,
                        column: 0,
                        path: field,
                        message: p.message,
                    };
                }
                let (line, column) = locator
                    .as_ref()
                    .map_or((0, 0), |t| line_col(text, locate(t, &p.path)));
                Diagnostic {
                    file: origin.to_path_buf(),
                    line,
                    column,
                    path: p.path,
                    message: p.message,
                }
            }));
            Err(ScenarioError::Invalid(diagnostics))
        }
    }
}

/// Parses the text into a [`Scenario`], reporting every structural problem (syntax, types, unknown or
/// missing fields) found section by section.
pub fn parse_scenario(text: &str, origin: &Path) -> Result<Scenario, ScenarioError> {
    let diag = |span: Option<std::ops::Range<usize>>, path: String, message: String| {
        let (line, column) = span.map_or((0, 0), |s| line_col(text, s.start));
        Diagnostic {
            file: origin.to_path_buf(),
            line,
            column,
            path,
            message,
        }
    };
    let root = match DeTable::parse(text) {
        Ok(t) => t,
        Err(e) => {
            return Err(ScenarioError::Invalid(vec![diag(
                e.span(),
                String::new(),
                format!("TOML syntax error: {}", e.message().trim()),
            )]));
        }
    };
    let mut out = Parts {
        diags: Vec::new(),
        text,
        origin,
    };
    // The values are taken out of the parsed document as each part is read, not copied (a copy
    // of the demand part, order book and all, took a tenth of the time of a large scenario).
    let root_span = root.span();
    let mut table = root.into_inner();
    for key in table.keys() {
        if !TOP_LEVEL.contains(&key.get_ref().as_ref()) {
            out.diags.push(diag(
                Some(key.span()),
                key.get_ref().to_string(),
                format!(
                    "unknown top-level key `{}` (expected one of: {})",
                    key.get_ref(),
                    TOP_LEVEL.join(", ")
                ),
            ));
        }
    }
    let mut get = |k: &str| table.remove(k);
    let schema_version: Option<u32> =
        out.required(get("schema_version"), "schema_version", &root_span);
    let name: Option<String> = out.required(get("name"), "name", &root_span);
    let description: Option<String> = get("description").and_then(|v| out.one(v, "description"));
    let run: Option<RunSpec> = out.required(get("run"), "run", &root_span);
    let products: Option<Vec<ProductSpec>> =
        out.list(get("products"), "products", true, &root_span);
    let stations: Option<Vec<StationSpec>> =
        out.list(get("stations"), "stations", true, &root_span);
    let buffers: Option<Vec<BufferSpec>> = out.list(get("buffers"), "buffers", false, &root_span);
    let crews: Option<Vec<CrewSpec>> = out.list(get("crews"), "crews", false, &root_span);
    let calendar: Option<Option<CalendarSpec>> = match get("calendar") {
        None => Some(None),
        Some(v) => out.one(v, "calendar").map(Some),
    };
    let demand: Option<DemandSpec> = out.required(get("demand"), "demand", &root_span);
    let stop_reasons: Option<BTreeMap<String, String>> = match get("stop_reasons") {
        None => Some(BTreeMap::new()),
        Some(v) => out.one(v, "stop_reasons"),
    };
    if !out.diags.is_empty() {
        return Err(ScenarioError::Invalid(out.diags));
    }
    match (
        schema_version,
        name,
        run,
        products,
        stations,
        buffers,
        crews,
        calendar,
        demand,
        stop_reasons,
    ) {
        (
            Some(schema_version),
            Some(name),
            Some(run),
            Some(products),
            Some(stations),
            Some(buffers),
            Some(crews),
            Some(calendar),
            Some(demand),
            Some(stop_reasons),
        ) => Ok(Scenario {
            schema_version,
            name,
            description,
            run,
            products,
            stations,
            buffers,
            crews,
            calendar,
            demand,
            stop_reasons,
        }),
        _ => Err(ScenarioError::Invalid(vec![diag(
            None,
            String::new(),
            "incomplete scenario".into(),
        )])),
    }
}

const TOP_LEVEL: [&str; 11] = [
    "schema_version",
    "name",
    "description",
    "run",
    "products",
    "stations",
    "buffers",
    "crews",
    "calendar",
    "demand",
    "stop_reasons",
];

struct Parts<'a> {
    diags: Vec<Diagnostic>,
    text: &'a str,
    origin: &'a Path,
}

impl Parts<'_> {
    fn push(&mut self, span: std::ops::Range<usize>, path: String, message: String) {
        let (line, column) = line_col(self.text, span.start);
        self.diags.push(Diagnostic {
            file: self.origin.to_path_buf(),
            line,
            column,
            path,
            message,
        });
    }

    /// Deserializes one value, recording a located problem on failure.
    fn one<T: DeserializeOwned>(&mut self, value: Spanned<DeValue<'_>>, path: &str) -> Option<T> {
        let value_span = value.span();
        let de = ValueDeserializer::from(value);
        match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(v) => Some(v),
            Err(e) => {
                let inner_path = e.path().to_string();
                let full = if inner_path == "." || inner_path.is_empty() {
                    path.to_string()
                } else {
                    format!("{path}.{inner_path}")
                };
                let span = e.inner().span().unwrap_or(value_span);
                self.push(span, full, e.inner().message().trim().to_string());
                None
            }
        }
    }

    fn required<T: DeserializeOwned>(
        &mut self,
        value: Option<Spanned<DeValue<'_>>>,
        key: &str,
        root_span: &std::ops::Range<usize>,
    ) -> Option<T> {
        match value {
            Some(v) => self.one(v, key),
            None => {
                self.push(
                    root_span.start..root_span.start,
                    key.to_string(),
                    format!("missing `{key}`"),
                );
                None
            }
        }
    }

    /// A list section (`[[stations]]`): each item on its own.
    fn list<T: DeserializeOwned>(
        &mut self,
        value: Option<Spanned<DeValue<'_>>>,
        key: &str,
        required: bool,
        root_span: &std::ops::Range<usize>,
    ) -> Option<Vec<T>> {
        let Some(value) = value else {
            if required {
                self.push(
                    root_span.start..root_span.start,
                    key.to_string(),
                    format!("missing `{key}` (a list: [[{key}]])"),
                );
                return None;
            }
            return Some(Vec::new());
        };
        let span = value.span();
        let DeValue::Array(items) = value.into_inner() else {
            self.push(
                span,
                key.to_string(),
                format!("`{key}` must be a list ([[{key}]] tables)"),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.into_iter().enumerate() {
            match self.one(item, &format!("{key}[{i}]")) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

/// The byte offset of the deepest existing value along a field path such as `stations[2].failures[0].ttr`.
pub(crate) fn locate(root: &Spanned<DeTable<'_>>, path: &str) -> usize {
    let mut best = root.span().start;
    let mut current: Option<&Spanned<DeValue<'_>>> = None;
    let mut first = true;
    for segment in path.split('.') {
        let (key, indices) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        let next = if first {
            root.get_ref().get(key)
        } else {
            current.and_then(|c| c.get_ref().get(key))
        };
        first = false;
        let Some(mut value) = next else { break };
        best = value.span().start;
        for idx in indices.split(['[', ']']).filter(|s| !s.is_empty()) {
            match idx
                .parse::<usize>()
                .ok()
                .and_then(|i| value.get_ref().get(i))
            {
                Some(v) => {
                    value = v;
                    best = v.span().start;
                }
                None => return best,
            }
        }
        current = Some(value);
    }
    best
}

pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(offset, |i| offset - i - 1) + 1;
    (line, column)
}
