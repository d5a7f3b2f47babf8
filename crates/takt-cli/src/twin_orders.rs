//! `takt twin orders`: the plant's live order book (`takt_twin::orders`), printed, given anew
//! from a JSON file (as `PUT /twin/orders` takes it), or dropped (`DELETE /twin/orders`).

use crate::twin::{MirrorArgs, chrono_now_ms, open_twin};
use anyhow::{Context, Result};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use takt_model::quantity::count;
use takt_twin::orders::{OrderBook, OrderBookRequest};

/// The largest order book file read: 10,000 orders take about 2 MB.
const MAX_BOOK_BYTES: u64 = 16 << 20;

#[derive(clap::Args)]
pub struct OrdersArgs {
    #[command(flatten)]
    mirror: MirrorArgs,
    /// Give the plant this order book (JSON: `{"orders": [{"id", "product", "quantity", "good",
    /// "scrap", "release", "due"}]}`), replacing the one given before; its orders are forecast in
    /// place of the scenario's from now on.
    #[arg(long, value_name = "FILE", conflicts_with = "clear")]
    set: Option<PathBuf>,
    /// Drop the live order book: forecasts, buffer levels and order alerts go back to the
    /// scenario's orders.
    #[arg(long)]
    clear: bool,
}

pub fn run(args: OrdersArgs) -> Result<ExitCode> {
    let request = match &args.set {
        None => None,
        Some(path) => Some(read_book(path)?),
    };
    let m = &args.mirror;
    let (model, mut twin) = match open_twin(&m.scenario, &m.db, &m.plant, m.config())? {
        Ok(opened) => opened,
        Err(code) => return Ok(code),
    };
    if args.clear {
        twin.clear_order_book()?;
        if m.json {
            println!("null");
        } else {
            println!("the live order book was dropped: forecasts use the scenario's orders again");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let book = match request {
        Some(request) => match twin.set_order_book(&model, request, chrono_now_ms()) {
            Ok(book) => Some(std::sync::Arc::new(book)),
            Err(takt_twin::TwinError::OrderBook(e)) => {
                eprintln!("{}: {e}", args.set.unwrap_or_default().display());
                return Ok(ExitCode::from(2));
            }
            Err(e) => return Err(e.into()),
        },
        None => twin.order_book()?,
    };
    match (&book, m.json) {
        (Some(book), true) => println!("{}", serde_json::to_string_pretty(book)?),
        (None, true) => println!("null"),
        (Some(book), false) => print_book(book, &model.timebase),
        (None, false) => println!(
            "no live order book was given (--set FILE): forecasts use the scenario's orders, \
             dated from its start"
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// The book in `path`, read up to [`MAX_BOOK_BYTES`]; a syntax error says where.
fn read_book(path: &std::path::Path) -> Result<OrderBookRequest> {
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut text = String::new();
    file.take(MAX_BOOK_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("{}", path.display()))?;
    anyhow::ensure!(
        text.len() as u64 <= MAX_BOOK_BYTES,
        "{}: larger than {} MiB",
        path.display(),
        MAX_BOOK_BYTES >> 20
    );
    serde_json::from_str(&text).with_context(|| format!("{}", path.display()))
}

fn print_book(book: &OrderBook, timebase: &takt_model::Timebase) {
    let when = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| takt_model::time::parse_rfc3339_ms(t).ok())
            .map_or("–".into(), |ms| {
                timebase.plant_minute(timebase.model_s(ms))
            })
    };
    println!(
        "{}",
        takt_model::quantity::wrap(
            &format!(
                "live order book as of {} (plant time, {}): {} orders; pieces out since then \
                 count against them",
                timebase.plant_minute(timebase.model_s(book.as_of_ms)),
                timebase.offset_text(),
                count(book.orders.len() as u64)
            ),
            100
        )
    );
    let header = [
        "order",
        "product",
        "quantity",
        "good before",
        "scrap before",
        "release",
        "due",
    ];
    let mut t = crate::table::narrow(&header, 2);
    for o in &book.orders {
        t.add_row([
            o.id.clone(),
            o.product.clone(),
            count(u64::from(o.quantity)),
            count(u64::from(o.good)),
            count(u64::from(o.scrap)),
            when(&o.release),
            when(&o.due),
        ]);
    }
    println!("{t}");
}
