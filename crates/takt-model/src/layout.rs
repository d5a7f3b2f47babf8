//! The plant as a line: its stations in flow order (the columns of a line board), each with its
//! machines and input buffer, and the flows between them from the products' routings. What a
//! screen draws of a plant comes from here, so the board and the scenario view agree.
//!
//! Line order: a station's stage is the length of the longest routing path that leads to it
//! (routings' first operations are stage 0); a step back in a routing (rework, a loop) does not
//! count. Stations of one stage keep the scenario's order.

use crate::model::Model;
use serde::Serialize;

/// An input buffer of a station.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LayoutBuffer {
    pub name: String,
    /// Parts it holds at most; absent: unlimited.
    pub capacity: Option<u32>,
    /// Not declared in the scenario: the station's own unlimited queue.
    pub implicit: bool,
}

/// A station and where it sits in the line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LayoutStation {
    pub name: String,
    /// Column in the line, from 0 (see the module documentation).
    pub stage: u32,
    /// The machines' asset names (the station's name when it has one machine).
    pub machines: Vec<String>,
    pub input_buffer: LayoutBuffer,
    /// Products whose routing passes through the station.
    pub products: Vec<String>,
    /// Failure modes, by name.
    pub failure_modes: Vec<String>,
}

/// Parts of `products` go from station `from` to station `to`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LayoutFlow {
    pub from: String,
    pub to: String,
    pub products: Vec<String>,
}

/// A plant as a line: stations in line order and the flows between them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlantLayout {
    pub plant: String,
    /// In line order: by stage, then as in the scenario.
    pub stations: Vec<LayoutStation>,
    pub flows: Vec<LayoutFlow>,
    pub products: Vec<String>,
    /// The plant's offset from UTC, minutes: times on screens are in plant time.
    pub utc_offset_min: i32,
    /// Stop reason codes in words (`crate::stop_reasons`: the scenario's `[stop_reasons]` and
    /// takt's own), for the screens to show beside the code an event sent.
    pub stop_reasons: std::collections::BTreeMap<String, String>,
}

impl PlantLayout {
    pub fn of(model: &Model) -> PlantLayout {
        let n = model.stations.len();
        // Edges between consecutive operations of each routing, with their products.
        let mut edges: Vec<(usize, usize, Vec<String>)> = Vec::new();
        let mut products_at: Vec<Vec<String>> = vec![Vec::new(); n];
        for product in &model.products {
            for op in &product.routing {
                for &s in &op.stations {
                    if !products_at[s].contains(&product.name) {
                        products_at[s].push(product.name.clone());
                    }
                }
            }
            for pair in product.routing.windows(2) {
                for &from in &pair[0].stations {
                    for &to in &pair[1].stations {
                        match edges.iter_mut().find(|e| e.0 == from && e.1 == to) {
                            Some(e) if !e.2.contains(&product.name) => {
                                e.2.push(product.name.clone())
                            }
                            Some(_) => {}
                            None => edges.push((from, to, vec![product.name.clone()])),
                        }
                    }
                }
            }
        }
        let stage = stages(n, &model.products);
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&s| (stage[s], s));
        let stations = order
            .iter()
            .map(|&s| {
                let station = &model.stations[s];
                let buffer = &model.buffers[station.input_buffer];
                LayoutStation {
                    name: station.name.clone(),
                    stage: stage[s],
                    machines: (0..station.machines)
                        .map(|k| station.machine_name(k))
                        .collect(),
                    input_buffer: LayoutBuffer {
                        name: buffer.name.clone(),
                        capacity: buffer.capacity,
                        implicit: buffer.implicit,
                    },
                    products: products_at[s].clone(),
                    failure_modes: station
                        .failure_modes
                        .iter()
                        .map(|f| f.name.clone())
                        .collect(),
                }
            })
            .collect();
        PlantLayout {
            plant: model.name.clone(),
            stations,
            flows: edges
                .into_iter()
                .map(|(from, to, products)| LayoutFlow {
                    from: model.stations[from].name.clone(),
                    to: model.stations[to].name.clone(),
                    products,
                })
                .collect(),
            products: model.products.iter().map(|p| p.name.clone()).collect(),
            utc_offset_min: model.timebase.utc_offset_min,
            stop_reasons: crate::stop_reasons::catalogue(&model.stop_reasons),
        }
    }
}

/// Each station's stage: the longest forward path to it along the routings. A step to a station
/// seen earlier in the same routing is a step back and does not count; the rest is relaxed until
/// nothing changes (at most one pass per station, since forward paths are acyclic per routing).
fn stages(n: usize, products: &[crate::model::Product]) -> Vec<u32> {
    let mut stage = vec![0u32; n];
    for _ in 0..=n {
        let mut changed = false;
        for product in products {
            let mut seen: Vec<usize> = Vec::new();
            for pair in product.routing.windows(2) {
                seen.extend(&pair[0].stations);
                for &from in &pair[0].stations {
                    for &to in &pair[1].stations {
                        if seen.contains(&to) {
                            continue;
                        }
                        let want = stage[from] + 1;
                        if stage[to] < want && want <= n as u32 {
                            stage[to] = want;
                            changed = true;
                        }
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    stage
}
