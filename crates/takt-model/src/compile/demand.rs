//! Demand: random arrivals with their product mix, and the order book.

use super::*;

/// Random arrivals and the orders of `[demand]`.
pub(super) fn compile_demand(
    p: &mut Problems,
    d: &DemandSpec,
    products: &HashMap<String, usize>,
) -> (Option<Arrivals>, Vec<Order>) {
    let arrivals = d.arrivals.as_ref().map(|a| {
        let interarrival = p.sampler("demand.arrivals.interarrival", &a.interarrival);
        if a.interarrival.mean() <= 0.0 {
            p.push(
                "demand.arrivals.interarrival",
                "mean inter-arrival time must be > 0",
            );
        }
        let mut mix_products = Vec::new();
        let mut weights = Vec::new();
        let mut unknown_products = 0;
        for (name, w) in &a.mix {
            let mp = format!("demand.arrivals.mix.{name}");
            match products.get(name) {
                None => {
                    unknown_products += 1;
                    p.push(mp, unknown("product", name, products));
                }
                Some(_) if !(w.is_finite() && *w >= 0.0) => {
                    p.push(mp, format!("weight must be >= 0, got {w}"))
                }
                Some(&pi) => {
                    mix_products.push(pi);
                    weights.push(*w);
                }
            }
        }
        let total: f64 = weights.iter().sum();
        if a.mix.is_empty() || (total <= 0.0 && unknown_products == 0) {
            p.push(
                "demand.arrivals.mix",
                "the product mix needs at least one product with weight > 0",
            );
        }
        let mut acc = 0.0;
        let mix_cumulative = weights
            .iter()
            .map(|w| {
                acc += w / total.max(f64::MIN_POSITIVE);
                acc
            })
            .collect();
        Arrivals {
            interarrival,
            mean_interarrival_s: a.interarrival.mean(),
            mix_products,
            mix_cumulative,
            due_in_s: a.due_in.map(|x| x.0),
            until_s: a.until.map(|x| x.0),
        }
    });
    let mut ids = HashSet::new();
    let orders: Vec<Order> = d
        .orders
        .iter()
        .enumerate()
        .filter_map(|(oi, o)| {
            let op = format!("demand.orders[{oi}]");
            if !ids.insert(o.id.as_str()) {
                p.push(format!("{op}.id"), format!("duplicate order id `{}`", o.id));
            }
            if o.quantity == 0 {
                p.push(format!("{op}.quantity"), "quantity must be >= 1");
            }
            if !(o.priority.is_finite() && o.priority > 0.0) {
                p.push(
                    format!("{op}.priority"),
                    format!("priority must be a number > 0, got {}", o.priority),
                );
            }
            if let Some(due) = o.due
                && due.0 < o.release.0
            {
                p.push(
                    format!("{op}.due"),
                    format!(
                        "due date ({} s) is before the release ({} s)",
                        due.0, o.release.0
                    ),
                );
            }
            let product = products.get(&o.product).copied();
            if product.is_none() {
                p.push(
                    format!("{op}.product"),
                    unknown("product", &o.product, products),
                );
            }
            Some(Order {
                id: o.id.clone(),
                product: product?,
                quantity: o.quantity,
                release_s: o.release.0,
                due_s: o.due.map(|x| x.0),
                priority: o.priority,
            })
        })
        .collect();
    // An order book's own problems (an empty one included) are its file's: see `load.rs`.
    if arrivals.is_none() && d.orders.is_empty() && d.orders_csv.is_none() {
        p.push(
            "demand",
            "no demand: give `arrivals`, `orders` or `orders_csv`",
        );
    }

    (arrivals, orders)
}
