//! The library's formats against `formats.json`: what people read for each quantity, written by
//! hand. The screens check the same file (`web/tests/formats.spec.ts`), so a figure reads the
//! same in `takt run`, the HTML reports and the browser.

use serde::Deserialize;
use takt_model::quantity::{self, Quantity};

#[derive(Deserialize)]
struct Cases {
    duration: Vec<Plain>,
    percent: Vec<Plain>,
    grouped: Vec<Grouped>,
    significant: Vec<Significant>,
    value: Vec<Value>,
    change: Vec<Change>,
    estimate: Vec<Estimate>,
    change_within: Vec<Change>,
    relative_change: Vec<Relative>,
    money: Vec<Money>,
}

#[derive(Deserialize)]
struct Plain {
    x: Option<f64>,
    text: String,
}

#[derive(Deserialize)]
struct Grouped {
    x: f64,
    decimals: usize,
    text: String,
}

#[derive(Deserialize)]
struct Significant {
    x: f64,
    digits: u32,
    text: String,
}

#[derive(Deserialize)]
struct Value {
    quantity: Quantity,
    x: Option<f64>,
    text: String,
}

#[derive(Deserialize)]
struct Change {
    quantity: Quantity,
    d: f64,
    h: Option<f64>,
    text: String,
}

#[derive(Deserialize)]
struct Estimate {
    quantity: Quantity,
    mean: Option<f64>,
    h: Option<f64>,
    text: String,
}

#[derive(Deserialize)]
struct Relative {
    base: Option<f64>,
    d: f64,
    h: Option<f64>,
    text: Option<String>,
}

#[derive(Deserialize)]
struct Money {
    x: Option<f64>,
    currency: String,
    text: String,
}

/// Every case's text beside what the library wrote, so that one run shows all that differ.
#[test]
fn every_quantity_reads_as_the_shared_table_says() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/formats.json");
    let cases: Cases = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let absent = |x: Option<f64>| x.unwrap_or(f64::NAN);
    let mut checked: Vec<(String, String, String)> = Vec::new();
    let mut check = |case: String, written: String, expected: &str| {
        checked.push((case, written, expected.to_string()));
    };
    for c in &cases.duration {
        check(
            format!("duration {:?}", c.x),
            quantity::duration(absent(c.x)),
            &c.text,
        );
    }
    for c in &cases.percent {
        check(
            format!("percent {:?}", c.x),
            quantity::percent(absent(c.x)),
            &c.text,
        );
    }
    for c in &cases.grouped {
        check(
            format!("grouped {} {}", c.x, c.decimals),
            quantity::grouped(c.x, c.decimals),
            &c.text,
        );
    }
    for c in &cases.significant {
        check(
            format!("significant {} {}", c.x, c.digits),
            quantity::significant(c.x, c.digits),
            &c.text,
        );
    }
    for c in &cases.value {
        check(
            format!("value {:?} {:?}", c.quantity, c.x),
            c.quantity.value(absent(c.x)),
            &c.text,
        );
    }
    for c in &cases.change {
        check(
            format!("change {:?} {}", c.quantity, c.d),
            c.quantity.change(c.d),
            &c.text,
        );
    }
    for c in &cases.estimate {
        check(
            format!("estimate {:?} {:?} {:?}", c.quantity, c.mean, c.h),
            c.quantity.estimate(absent(c.mean), c.h),
            &c.text,
        );
    }
    for c in &cases.change_within {
        check(
            format!("change_within {:?} {} {:?}", c.quantity, c.d, c.h),
            c.quantity.change_within(c.d, c.h),
            &c.text,
        );
    }
    for c in &cases.relative_change {
        check(
            format!("relative_change {:?} {} {:?}", c.base, c.d, c.h),
            format!("{:?}", quantity::relative_change(c.base, c.d, c.h)),
            &format!("{:?}", c.text),
        );
    }
    for c in &cases.money {
        check(
            format!("money {:?} {}", c.x, c.currency),
            quantity::money(absent(c.x), &c.currency),
            &c.text,
        );
    }
    let wrong: Vec<String> = checked
        .iter()
        .filter(|(_, written, expected)| written != expected)
        .map(|(case, written, expected)| {
            format!("{case}: wrote {written:?}, the table says {expected:?}")
        })
        .collect();
    assert!(checked.len() > 80, "{} cases read", checked.len());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
