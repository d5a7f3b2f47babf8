//! Order books: the CSV a scenario names in `demand.orders_csv`, read from its file or, for a
//! server that opens no file a request names, sent beside the scenario and written into it
//! ([`inline_order_book`]).

use crate::load::{Diagnostic, ScenarioError, line_col, locate};
use crate::scenario::OrderSpec;
use std::path::Path;
use toml::de::DeTable;

/// Reads an order book: a header `id,product,quantity,release,due[,priority]` (release and due as
/// durations from t = 0, due may be empty; priority weighs tardiness, default 1). Problems name the CSV
/// line and column.
pub fn read_orders_csv(path: &Path) -> Result<Vec<OrderSpec>, Vec<Diagnostic>> {
    match read_order_book(path) {
        (rows, problems) if problems.is_empty() => {
            Ok(rows.into_iter().map(|(order, _)| order).collect())
        }
        (_, problems) => Err(problems),
    }
}

/// [`read_orders_csv`], each order with its line in the file. A byte-order mark is skipped; a file
/// without the header, without orders or with more than [`MAX_ORDERS`](crate::limits::MAX_ORDERS)
/// is an error, as are duplicate ids and quantities of 0, each at its line. Returns the good rows
/// and the problems of the others.
pub(crate) type OrderRows = Vec<(OrderSpec, usize)>;
pub(crate) fn read_order_book(path: &Path) -> (OrderRows, Vec<Diagnostic>) {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_order_book(&text, path),
        Err(e) => (
            Vec::new(),
            vec![Diagnostic {
                file: path.to_path_buf(),
                line: 0,
                column: 0,
                path: String::new(),
                message: format!("cannot read order book: {e}"),
            }],
        ),
    }
}

/// [`read_order_book`] of a book in memory; `file` names it in diagnostics.
pub(crate) fn parse_order_book(text: &str, file: &Path) -> (OrderRows, Vec<Diagnostic>) {
    let located = |line: usize, path_s: &str, message: String| Diagnostic {
        file: file.to_path_buf(),
        line,
        column: 0,
        path: path_s.to_string(),
        message,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return (Vec::new(), vec![located(1, "", format!("bad header: {e}"))]),
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(c_id), Some(c_product), Some(c_qty)) = (col("id"), col("product"), col("quantity"))
    else {
        return (
            Vec::new(),
            vec![located(
                1,
                "",
                format!(
                    "the header must name at least id, product, quantity (and optionally release, due); got `{}`",
                    headers.iter().collect::<Vec<_>>().join(",")
                ),
            )],
        );
    };
    let (c_release, c_due, c_priority) = (col("release"), col("due"), col("priority"));
    let mut orders = Vec::new();
    let mut diags = Vec::new();
    let mut first_line_of = std::collections::HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = match &record {
            Ok(r) => r.position().map_or(i + 2, |p| p.line() as usize),
            Err(_) => i + 2,
        };
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                diags.push(located(line, "", e.to_string()));
                continue;
            }
        };
        let field = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("");
        let quantity = match field(Some(c_qty)).parse::<u32>() {
            Ok(q) => q,
            Err(_) => {
                diags.push(located(
                    line,
                    "quantity",
                    format!("`{}` is not a whole number", field(Some(c_qty))),
                ));
                continue;
            }
        };
        let priority = match field(c_priority) {
            "" => 1.0,
            text => match text.parse::<f64>() {
                Ok(w) => w,
                Err(_) => {
                    diags.push(located(
                        line,
                        "priority",
                        format!("`{text}` is not a number"),
                    ));
                    continue;
                }
            },
        };
        let duration = |name: &str, c: Option<usize>, diags: &mut Vec<Diagnostic>| {
            let text = field(c);
            if text.is_empty() {
                return Ok(None);
            }
            crate::duration::parse_duration(text)
                .map(Some)
                .map_err(|m| diags.push(located(line, name, m.0)))
        };
        let (Ok(release), Ok(due)) = (
            duration("release", c_release, &mut diags),
            duration("due", c_due, &mut diags),
        ) else {
            continue;
        };
        if let (Some(r), Some(d)) = (release, due)
            && d < r
        {
            diags.push(located(
                line,
                "due",
                format!("due date ({d} s) is before the release ({r} s)"),
            ));
            continue;
        }
        if !(priority.is_finite() && priority > 0.0) {
            diags.push(located(
                line,
                "priority",
                format!("priority must be a number > 0, got {priority}"),
            ));
            continue;
        }
        if quantity == 0 {
            diags.push(located(line, "quantity", "quantity must be >= 1".into()));
            continue;
        }
        let id = field(Some(c_id));
        if let Some(first) = first_line_of.get(id) {
            diags.push(located(
                line,
                "id",
                format!("duplicate order id `{id}` (first at line {first})"),
            ));
            continue;
        }
        first_line_of.insert(id.to_string(), line);
        if orders.len() == crate::limits::MAX_ORDERS {
            diags.push(located(
                line,
                "",
                format!(
                    "more than {} orders; takt accepts at most that many",
                    crate::limits::MAX_ORDERS
                ),
            ));
            break;
        }
        orders.push((
            OrderSpec {
                id: id.to_string(),
                product: field(Some(c_product)).to_string(),
                quantity,
                release: crate::duration::Secs(release.unwrap_or(0.0)),
                due: due.map(crate::duration::Secs),
                priority,
            },
            line,
        ));
    }
    if orders.is_empty() && diags.is_empty() {
        diags.push(located(
            1,
            "",
            "the order book has no orders: give one per line under the header".into(),
        ));
    }
    (orders, diags)
}

/// `text` (a scenario whose `demand.orders_csv` names a CSV) with the book `csv` (that file's
/// content, sent beside it) written in as `[[demand.orders]]`: a scenario that names no file, so a
/// server that opens no path a request names can run it. The `orders_csv` line is commented out and
/// the orders appended, so the file's own lines keep their numbers in every diagnostic; a problem of
/// the book is reported at its CSV line, in a file named `csv_name`.
pub fn inline_order_book(
    text: &str,
    origin: &Path,
    csv: &str,
    csv_name: &str,
) -> Result<String, ScenarioError> {
    let problem = |line: usize, column: usize, path: &str, message: String| {
        ScenarioError::Invalid(vec![Diagnostic {
            file: origin.to_path_buf(),
            line,
            column,
            path: path.into(),
            message,
        }])
    };
    let root = DeTable::parse(text)
        .map_err(|e| problem(0, 0, "", format!("not TOML: {}", e.message())))?;
    let names_a_book = root
        .get_ref()
        .get("demand")
        .and_then(|d| d.get_ref().as_table())
        .is_some_and(|d| d.contains_key("orders_csv"));
    if !names_a_book {
        return Err(problem(
            0,
            0,
            "demand.orders_csv",
            "the scenario names no order book (`demand.orders_csv`): send none with it".into(),
        ));
    }
    let (line, _) = line_col(text, locate(&root, "demand.orders_csv"));
    let (rows, problems) = parse_order_book(csv, Path::new(csv_name));
    if !problems.is_empty() {
        return Err(ScenarioError::Invalid(problems));
    }
    let mut out = String::with_capacity(text.len() + rows.len() * 120);
    for (k, l) in text.lines().enumerate() {
        let trimmed = l.trim_start();
        if k + 1 == line
            && (trimmed.starts_with("orders_csv") || trimmed.starts_with("demand.orders_csv"))
        {
            out.push_str("# ");
            out.push_str(l);
            out.push_str(&format!("  (inlined below from {csv_name})\n"));
        } else {
            out.push_str(l);
            out.push('\n');
        }
    }
    out.push_str(&format!("\n# ---- the order book, from {csv_name} ----\n"));
    for (order, _) in &rows {
        out.push_str(&format!(
            "\n[[demand.orders]]\nid = {}\nproduct = {}\nquantity = {}\nrelease = \"{}s\"\n",
            toml::Value::String(order.id.clone()),
            toml::Value::String(order.product.clone()),
            order.quantity,
            order.release.0
        ));
        if let Some(due) = order.due {
            out.push_str(&format!("due = \"{}s\"\n", due.0));
        }
        out.push_str(&format!("priority = {:?}\n", order.priority));
    }
    // The line may have been shared with other keys, or the orders written as an inline array:
    // then the appended tables do not fit, and the caller hears so instead of a broken scenario.
    DeTable::parse(&out).map_err(|e| {
        problem(
            line,
            0,
            "demand.orders_csv",
            format!(
                "the order book cannot be written into this file ({}): put `orders_csv` on a line of its own",
                e.message()
            ),
        )
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(name: &str) -> String {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        std::fs::read_to_string(dir.join(name)).expect("shipped")
    }

    /// The moulding shop's scenario with its book sent beside it compiles, without any file, to the
    /// same model as read from disk with its CSV.
    #[test]
    fn a_book_sent_beside_its_scenario_gives_the_model_read_from_disk() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let from_disk = crate::load_file(&dir.join("injection-moulding.toml")).expect("loads");
        let text = shipped("injection-moulding.toml");
        let inlined = inline_order_book(
            &text,
            Path::new("injection-moulding.toml"),
            &shipped("injection-moulding-orders.csv"),
            "injection-moulding-orders.csv",
        )
        .expect("inlines");
        let sent = crate::load_str(&inlined, Path::new("scenario.toml"), None).expect("loads");
        assert_eq!(
            format!("{:?}", sent.model),
            format!("{:?}", from_disk.model)
        );
        assert!(!sent.model.orders.is_empty());
        // Lines of the file keep their numbers.
        assert_eq!(inlined.lines().nth(5), text.lines().nth(5));
    }

    #[test]
    fn a_bad_book_is_refused_at_its_csv_line_and_a_scenario_without_one_needs_none() {
        let text = shipped("injection-moulding.toml");
        let csv = shipped("injection-moulding-orders.csv");
        let mut lines: Vec<&str> = csv.lines().collect();
        // The fourth line's quantity (the book's line 4) is not a number.
        let broken = lines[3]
            .split(',')
            .enumerate()
            .map(|(i, f)| if i == 2 { "many" } else { f })
            .collect::<Vec<_>>()
            .join(",");
        lines[3] = &broken;
        let e = inline_order_book(&text, Path::new("s.toml"), &lines.join("\n"), "book.csv")
            .expect_err("refused");
        let d = &e.diagnostics()[0];
        assert_eq!(
            (d.file.to_str(), d.line, d.path.as_str()),
            (Some("book.csv"), 4, "quantity"),
            "{e}"
        );
        let e = inline_order_book(
            &shipped("bottling-line.toml"),
            Path::new("s.toml"),
            &csv,
            "b.csv",
        )
        .expect_err("refused");
        assert_eq!(e.diagnostics()[0].path, "demand.orders_csv");
    }
}
