//! Gradient-boosted regression trees for squared error (Friedman's gradient boosting), small enough
//! to train on a CPU in seconds: features are binned once into quantile bins, each tree grows level by
//! level choosing the split of largest variance reduction from per-bin sums, and each leaf moves its
//! rows by the learning rate times their mean residual. Deterministic: no sampling.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoostConfig {
    pub trees: usize,
    pub depth: usize,
    pub learning_rate: f64,
    /// Quantile bins per feature (at most 255).
    pub bins: usize,
    /// Fewest rows in a leaf.
    pub min_leaf: usize,
}

impl Default for BoostConfig {
    fn default() -> Self {
        BoostConfig {
            trees: 300,
            depth: 5,
            learning_rate: 0.05,
            bins: 64,
            min_leaf: 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Node {
    Split {
        feature: usize,
        /// Rows with a value <= threshold go left.
        threshold: f64,
        left: usize,
        right: usize,
    },
    Leaf(f64),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    fn predict(&self, x: &[f64]) -> f64 {
        let mut i = 0;
        loop {
            match &self.nodes[i] {
                Node::Leaf(v) => return *v,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    i = if x[*feature] <= *threshold {
                        *left
                    } else {
                        *right
                    }
                }
            }
        }
    }
}

/// A trained ensemble.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Boosted {
    base: f64,
    learning_rate: f64,
    trees: Vec<Tree>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BoostError {
    #[error("no training rows")]
    Empty,
    #[error("row {row} has {found} features, the first has {expected}")]
    Ragged {
        row: usize,
        found: usize,
        expected: usize,
    },
    #[error("row {row}, feature {feature}: {value} is not a finite number")]
    NotFinite {
        row: usize,
        feature: usize,
        value: f64,
    },
}

impl Boosted {
    /// Fits `y ≈ f(x)` by boosting; `x[r]` is row r's features.
    pub fn fit(x: &[Vec<f64>], y: &[f64], config: BoostConfig) -> Result<Boosted, BoostError> {
        let n = x.len().min(y.len());
        if n == 0 {
            return Err(BoostError::Empty);
        }
        let d = x[0].len();
        for (row, r) in x.iter().enumerate().take(n) {
            if r.len() != d {
                return Err(BoostError::Ragged {
                    row,
                    found: r.len(),
                    expected: d,
                });
            }
            if let Some((feature, &value)) = r.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(BoostError::NotFinite {
                    row,
                    feature,
                    value,
                });
            }
        }
        let bins = config.bins.clamp(2, 255);
        // Per feature: upper edges of the quantile bins, and each row's bin.
        let mut edges: Vec<Vec<f64>> = Vec::with_capacity(d);
        let mut binned: Vec<Vec<u8>> = Vec::with_capacity(d);
        for f in 0..d {
            let mut values: Vec<f64> = x.iter().take(n).map(|r| r[f]).collect();
            values.sort_by(f64::total_cmp);
            values.dedup();
            let e: Vec<f64> = if values.len() <= bins {
                values
            } else {
                let mut e: Vec<f64> = (1..bins).map(|k| values[k * values.len() / bins]).collect();
                e.dedup();
                e.push(f64::INFINITY);
                e
            };
            binned.push(
                x.iter()
                    .take(n)
                    .map(|r| e.partition_point(|edge| *edge < r[f]).min(e.len() - 1) as u8)
                    .collect(),
            );
            edges.push(e);
        }
        let base = y.iter().take(n).sum::<f64>() / n as f64;
        let mut prediction = vec![base; n];
        let mut trees = Vec::with_capacity(config.trees);
        let mut node_of = vec![0usize; n];
        for _ in 0..config.trees {
            let residual: Vec<f64> = (0..n).map(|i| y[i] - prediction[i]).collect();
            let tree = grow(&binned, &edges, &residual, &mut node_of, config);
            for (i, p) in prediction.iter_mut().enumerate() {
                if let Node::Leaf(v) = tree.nodes[node_of[i]] {
                    *p += config.learning_rate * v;
                }
            }
            trees.push(tree);
        }
        Ok(Boosted {
            base,
            learning_rate: config.learning_rate,
            trees,
        })
    }

    pub fn predict(&self, x: &[f64]) -> f64 {
        self.base + self.learning_rate * self.trees.iter().map(|t| t.predict(x)).sum::<f64>()
    }
}

/// Grows one tree on the residuals; `node_of[i]` ends as row i's leaf.
fn grow(
    binned: &[Vec<u8>],
    edges: &[Vec<f64>],
    residual: &[f64],
    node_of: &mut [usize],
    config: BoostConfig,
) -> Tree {
    let n = residual.len();
    node_of.iter_mut().for_each(|v| *v = 0);
    let mut nodes = vec![Node::Leaf(0.0)];
    // The nodes of a level are numbered consecutively: `frontier` is `lo..lo + width`.
    let (mut lo, mut width) = (0usize, 1usize);
    const NONE: u32 = u32::MAX;
    let mut k_of = vec![0u32; n];
    for _ in 0..config.depth {
        for (i, k) in k_of.iter_mut().enumerate() {
            let node = node_of[i];
            *k = if node >= lo && node < lo + width {
                (node - lo) as u32
            } else {
                NONE
            };
        }
        let mut totals = vec![(0.0f64, 0usize); width];
        for i in 0..n {
            if k_of[i] != NONE {
                let t = &mut totals[k_of[i] as usize];
                t.0 += residual[i];
                t.1 += 1;
            }
        }
        let mut best: Vec<Option<(f64, usize, usize)>> = vec![None; width];
        for (f, column) in binned.iter().enumerate() {
            let nb = edges[f].len();
            let mut hist = vec![(0.0f64, 0usize); width * nb];
            for i in 0..n {
                if k_of[i] != NONE {
                    let h = &mut hist[k_of[i] as usize * nb + column[i] as usize];
                    h.0 += residual[i];
                    h.1 += 1;
                }
            }
            for k in 0..width {
                let (sum, count) = totals[k];
                let (mut left_sum, mut left_count) = (0.0, 0usize);
                for b in 0..nb.saturating_sub(1) {
                    let h = hist[k * nb + b];
                    left_sum += h.0;
                    left_count += h.1;
                    let right_count = count - left_count;
                    if left_count < config.min_leaf || right_count < config.min_leaf {
                        continue;
                    }
                    let right_sum = sum - left_sum;
                    // Variance reduction, up to a constant.
                    let gain = left_sum * left_sum / left_count as f64
                        + right_sum * right_sum / right_count as f64
                        - sum * sum / count as f64;
                    if gain > 1e-12 && best[k].is_none_or(|(g, _, _)| gain > g) {
                        best[k] = Some((gain, f, b));
                    }
                }
            }
        }
        let next_lo = nodes.len();
        let mut split_of: Vec<Option<(usize, u8, usize)>> = vec![None; width];
        for (k, b) in best.iter().enumerate() {
            if let Some((_, feature, bin)) = *b {
                let left = nodes.len();
                nodes.push(Node::Leaf(0.0));
                nodes.push(Node::Leaf(0.0));
                nodes[lo + k] = Node::Split {
                    feature,
                    threshold: edges[feature][bin],
                    left,
                    right: left + 1,
                };
                split_of[k] = Some((feature, bin as u8, left));
            }
        }
        if nodes.len() == next_lo {
            break;
        }
        for i in 0..n {
            if k_of[i] != NONE
                && let Some((feature, bin, left)) = split_of[k_of[i] as usize]
            {
                node_of[i] = if binned[feature][i] <= bin {
                    left
                } else {
                    left + 1
                };
            }
        }
        (lo, width) = (next_lo, nodes.len() - next_lo);
    }
    // Leaves: the mean residual of their rows.
    let mut sums = vec![(0.0f64, 0usize); nodes.len()];
    for i in 0..n {
        sums[node_of[i]].0 += residual[i];
        sums[node_of[i]].1 += 1;
    }
    for (node, (s, c)) in nodes.iter_mut().zip(sums) {
        if let Node::Leaf(v) = node {
            *v = if c > 0 { s / c as f64 } else { 0.0 };
        }
    }
    Tree { nodes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boosting_learns_a_nonlinear_function_it_was_not_shown() {
        // y = sin(x0) * 3 + x1 ^ 2 on a grid; test on points between the grid's.
        let grid = |offset: f64| {
            let mut x = Vec::new();
            for i in 0..60 {
                for j in 0..30 {
                    x.push(vec![
                        (i as f64 + offset) / 10.0,
                        (j as f64 + offset) / 10.0 - 1.5,
                    ]);
                }
            }
            x
        };
        let f = |r: &[f64]| 3.0 * r[0].sin() + r[1] * r[1];
        let x = grid(0.0);
        let y: Vec<f64> = x.iter().map(|r| f(r)).collect();
        let model = Boosted::fit(&x, &y, BoostConfig::default()).expect("fits");
        let test = grid(0.5);
        let mse = test
            .iter()
            .map(|r| (model.predict(r) - f(r)).powi(2))
            .sum::<f64>()
            / test.len() as f64;
        let var = {
            let m = y.iter().sum::<f64>() / y.len() as f64;
            y.iter().map(|v| (v - m).powi(2)).sum::<f64>() / y.len() as f64
        };
        assert!(mse < 0.01 * var, "mse {mse} against variance {var}");
    }

    #[test]
    fn bad_rows_are_refused_with_their_place() {
        let e = Boosted::fit(
            &[vec![1.0, 2.0], vec![1.0, f64::NAN]],
            &[1.0, 2.0],
            BoostConfig::default(),
        );
        assert_eq!(
            e.err().map(|e| e.to_string()),
            Some("row 1, feature 1: NaN is not a finite number".into())
        );
    }
}
