//! Probability distributions of durations (and of counts, for cycles-to-failure).
//!
//! [`DistributionSpec`] is what a scenario file says; [`Sampler`] is the validated, ready-to-draw form.
//! Building the sampler *is* the parameter check, so a distribution that loads can always be drawn.
//!
//! In a file a distribution is a bare number of seconds, a duration string (both constant), or a table
//! tagged by `dist`: `{ dist = "lognormal", mean = "0.8s", sd = "0.2s" }`.

use crate::duration::Secs;
use rand::{Rng, RngExt};
use rand_distr::Distribution as _;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A distribution whose parameters cannot be sampled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DistributionError(pub String);

/// A distribution as written in a scenario. Time parameters are seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "dist", rename_all = "lowercase")]
pub enum DistributionSpec {
    Constant {
        value: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
    },
    Exponential {
        mean: f64,
    },
    /// Normal, truncated at 0 (drawn again while negative).
    Normal {
        mean: f64,
        sd: f64,
    },
    /// Lognormal given by the mean and standard deviation of the variable itself.
    Lognormal {
        mean: f64,
        sd: f64,
    },
    Gamma {
        shape: f64,
        scale: f64,
    },
    Weibull {
        shape: f64,
        scale: f64,
    },
    /// Sum of `k` exponential phases with total mean `mean`.
    Erlang {
        k: u32,
        mean: f64,
    },
    /// Draws one of `values`, with optional relative `weights` (equal when absent).
    Empirical {
        values: Vec<f64>,
        weights: Option<Vec<f64>>,
    },
    /// A histogram: a bin chosen by `weights`, then a uniform value inside `[edges[i], edges[i+1])`.
    Histogram {
        edges: Vec<f64>,
        weights: Vec<f64>,
    },
}

impl DistributionSpec {
    pub fn constant(value: f64) -> Self {
        DistributionSpec::Constant { value }
    }

    pub fn exponential(mean: f64) -> Self {
        DistributionSpec::Exponential { mean }
    }

    /// The mean, used for the SPT rule, default ideal cycle times and load checks.
    pub fn mean(&self) -> f64 {
        use DistributionSpec::*;
        match self {
            Constant { value } => *value,
            Uniform { min, max } => (min + max) / 2.0,
            Triangular { min, mode, max } => (min + mode + max) / 3.0,
            Exponential { mean } | Lognormal { mean, .. } | Erlang { mean, .. } => *mean,
            Normal { mean, sd } => truncated_normal_mean(*mean, *sd),
            Gamma { shape, scale } => shape * scale,
            Weibull { shape, scale } => scale * statrs::function::gamma::gamma(1.0 + 1.0 / shape),
            Empirical { values, weights } => {
                let w = weights.clone().unwrap_or_else(|| vec![1.0; values.len()]);
                let total: f64 = w.iter().sum();
                values.iter().zip(&w).map(|(v, w)| v * w).sum::<f64>() / total
            }
            Histogram { edges, weights } => {
                let total: f64 = weights.iter().sum();
                edges
                    .windows(2)
                    .zip(weights)
                    .map(|(e, w)| (e[0] + e[1]) / 2.0 * w)
                    .sum::<f64>()
                    / total
            }
        }
    }

    /// Checks the parameters and builds the sampler; the error says which parameter is impossible.
    pub fn sampler(&self) -> Result<Sampler, DistributionError> {
        self.sampler_message().map_err(DistributionError)
    }

    fn sampler_message(&self) -> Result<Sampler, String> {
        use DistributionSpec::*;
        let finite = |name: &str, v: f64| {
            if v.is_finite() {
                Ok(v)
            } else {
                Err(format!("`{name}` must be a finite number, got {v}"))
            }
        };
        let positive = |name: &str, v: f64| {
            finite(name, v)?;
            if v > 0.0 {
                Ok(v)
            } else {
                Err(format!("`{name}` must be > 0, got {v}"))
            }
        };
        let non_negative = |name: &str, v: f64| {
            finite(name, v)?;
            if v >= 0.0 {
                Ok(v)
            } else {
                Err(format!("`{name}` must be >= 0, got {v}"))
            }
        };
        Ok(match self {
            Constant { value } => Sampler::Constant(non_negative("value", *value)?),
            Uniform { min, max } => {
                non_negative("min", *min)?;
                finite("max", *max)?;
                if max < min {
                    return Err(format!(
                        "uniform needs min <= max, got min {min} > max {max}"
                    ));
                }
                Sampler::Uniform {
                    min: *min,
                    width: max - min,
                }
            }
            Triangular { min, mode, max } => {
                non_negative("min", *min)?;
                finite("mode", *mode)?;
                finite("max", *max)?;
                if !(min <= mode && mode <= max && min < max) {
                    return Err(format!(
                        "triangular needs min <= mode <= max and min < max, got {min}, {mode}, {max}"
                    ));
                }
                Sampler::Triangular(
                    rand_distr::Triangular::new(*min, *max, *mode).map_err(|e| e.to_string())?,
                )
            }
            Exponential { mean } => Sampler::Exponential(
                rand_distr::Exp::new(1.0 / positive("mean", *mean)?).map_err(|e| e.to_string())?,
            ),
            Normal { mean, sd } => {
                // Truncation at 0 is done by redrawing; a mean > 0 keeps acceptance above 50%.
                positive("mean", *mean)?;
                non_negative("sd", *sd)?;
                Sampler::TruncatedNormal(
                    rand_distr::Normal::new(*mean, *sd).map_err(|e| e.to_string())?,
                )
            }
            Lognormal { mean, sd } => {
                positive("mean", *mean)?;
                non_negative("sd", *sd)?;
                let sigma2 = (1.0 + (sd / mean).powi(2)).ln();
                let mu = mean.ln() - sigma2 / 2.0;
                Sampler::Lognormal(
                    rand_distr::LogNormal::new(mu, sigma2.sqrt()).map_err(|e| e.to_string())?,
                )
            }
            Gamma { shape, scale } => Sampler::Gamma(
                rand_distr::Gamma::new(positive("shape", *shape)?, positive("scale", *scale)?)
                    .map_err(|e| e.to_string())?,
            ),
            Weibull { shape, scale } => Sampler::Weibull(
                rand_distr::Weibull::new(positive("scale", *scale)?, positive("shape", *shape)?)
                    .map_err(|e| e.to_string())?,
            ),
            Erlang { k, mean } => {
                if *k == 0 {
                    return Err("erlang needs `k` >= 1 phases".into());
                }
                let k = f64::from(*k);
                Sampler::Gamma(
                    rand_distr::Gamma::new(k, positive("mean", *mean)? / k)
                        .map_err(|e| e.to_string())?,
                )
            }
            Empirical { values, weights } => {
                if values.is_empty() {
                    return Err("empirical needs at least one value".into());
                }
                for v in values {
                    non_negative("values", *v)?;
                }
                let weights = weights.clone().unwrap_or_else(|| vec![1.0; values.len()]);
                if weights.len() != values.len() {
                    return Err(format!(
                        "empirical has {} values but {} weights",
                        values.len(),
                        weights.len()
                    ));
                }
                Sampler::Empirical {
                    values: values.clone(),
                    cumulative: cumulative(&weights)?,
                }
            }
            Histogram { edges, weights } => {
                if edges.len() < 2 || edges.len() != weights.len() + 1 {
                    return Err(format!(
                        "histogram needs one more edge than weights, got {} edges and {} weights",
                        edges.len(),
                        weights.len()
                    ));
                }
                non_negative("edges", edges[0])?;
                if edges.windows(2).any(|e| {
                    e[0].partial_cmp(&e[1]) != Some(std::cmp::Ordering::Less) || !e[1].is_finite()
                }) {
                    return Err("histogram edges must be finite and strictly increasing".into());
                }
                Sampler::Histogram {
                    edges: edges.clone(),
                    cumulative: cumulative(weights)?,
                }
            }
        })
    }
}

fn truncated_normal_mean(mean: f64, sd: f64) -> f64 {
    if sd <= 0.0 {
        return mean.max(0.0);
    }
    use statrs::distribution::{Continuous, ContinuousCDF, Normal};
    let standard = Normal::standard();
    let alpha = -mean / sd;
    mean + sd * standard.pdf(alpha) / (1.0 - standard.cdf(alpha))
}

fn cumulative(weights: &[f64]) -> Result<Vec<f64>, String> {
    let mut acc = 0.0;
    let mut out = Vec::with_capacity(weights.len());
    for w in weights {
        if !w.is_finite() || *w < 0.0 {
            return Err(format!("weights must be finite and >= 0, got {w}"));
        }
        acc += w;
        out.push(acc);
    }
    if acc <= 0.0 {
        return Err("weights must not all be zero".into());
    }
    for c in &mut out {
        *c /= acc;
    }
    Ok(out)
}

/// A validated distribution, ready to draw.
#[derive(Debug, Clone)]
pub enum Sampler {
    Constant(f64),
    Uniform {
        min: f64,
        width: f64,
    },
    Triangular(rand_distr::Triangular<f64>),
    Exponential(rand_distr::Exp<f64>),
    TruncatedNormal(rand_distr::Normal<f64>),
    Lognormal(rand_distr::LogNormal<f64>),
    Gamma(rand_distr::Gamma<f64>),
    Weibull(rand_distr::Weibull<f64>),
    Empirical {
        values: Vec<f64>,
        cumulative: Vec<f64>,
    },
    Histogram {
        edges: Vec<f64>,
        cumulative: Vec<f64>,
    },
}

impl Sampler {
    /// A draw. Constant and exponential times, the most common, are drawn in line; the others
    /// through one call (a simulation draws about once per event: the whole `match` in line made
    /// every draw save and restore the registers of the largest arm).
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Sampler::Constant(v) => *v,
            Sampler::Exponential(d) => d.sample(rng),
            _ => self.sample_other(rng),
        }
    }

    #[inline(never)]
    fn sample_other<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Sampler::Constant(v) => *v,
            Sampler::Uniform { min, width } => min + width * rng.random::<f64>(),
            Sampler::Triangular(d) => d.sample(rng),
            Sampler::Exponential(d) => d.sample(rng),
            Sampler::TruncatedNormal(d) => loop {
                let x = d.sample(rng);
                if x >= 0.0 {
                    break x;
                }
            },
            Sampler::Lognormal(d) => d.sample(rng),
            Sampler::Gamma(d) => d.sample(rng),
            Sampler::Weibull(d) => d.sample(rng),
            Sampler::Empirical { values, cumulative } => values[pick(cumulative, rng)],
            Sampler::Histogram { edges, cumulative } => {
                let i = pick(cumulative, rng);
                edges[i] + (edges[i + 1] - edges[i]) * rng.random::<f64>()
            }
        }
    }

    /// A draw of the time still to go of something that has already lasted `elapsed` (a repair under
    /// way, a part half processed, a machine that has aged): X - elapsed with X drawn given X > elapsed.
    /// Exact for constant and exponential (memoryless) times; otherwise by rejection. When `elapsed` is
    /// so deep in the tail that 256 draws all fall short, the activity is overdue and a fresh draw is
    /// returned: it will take about another usual time, not end at once.
    pub fn sample_residual<R: Rng + ?Sized>(&self, elapsed: f64, rng: &mut R) -> f64 {
        if elapsed <= 0.0 {
            return self.sample(rng);
        }
        match self {
            Sampler::Constant(v) => (v - elapsed).max(0.0),
            Sampler::Exponential(d) => d.sample(rng),
            _ => {
                for _ in 0..256 {
                    let x = self.sample(rng);
                    if x > elapsed {
                        return x - elapsed;
                    }
                }
                self.sample(rng)
            }
        }
    }

    /// True when every draw is the same value (no random numbers consumed).
    pub fn is_constant(&self) -> bool {
        matches!(self, Sampler::Constant(_))
    }
}

/// Index of the bin whose cumulative weight first exceeds a uniform draw.
fn pick<R: Rng + ?Sized>(cumulative: &[f64], rng: &mut R) -> usize {
    let u = rng.random::<f64>();
    cumulative
        .partition_point(|c| *c <= u)
        .min(cumulative.len() - 1)
}

/// The table form, tagged by `dist`. Time parameters accept duration strings.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
enum Tagged {
    Constant {
        value: Secs,
    },
    Uniform {
        min: Secs,
        max: Secs,
    },
    Triangular {
        min: Secs,
        mode: Secs,
        max: Secs,
    },
    Exponential {
        mean: Secs,
    },
    Normal {
        mean: Secs,
        sd: Secs,
    },
    Lognormal {
        mean: Secs,
        sd: Secs,
    },
    Gamma {
        shape: f64,
        scale: Secs,
    },
    Weibull {
        shape: f64,
        scale: Secs,
    },
    Erlang {
        k: u32,
        mean: Secs,
    },
    Empirical {
        values: Vec<Secs>,
        weights: Option<Vec<f64>>,
    },
    Histogram {
        edges: Vec<Secs>,
        weights: Vec<f64>,
    },
}

impl From<Tagged> for DistributionSpec {
    fn from(t: Tagged) -> Self {
        use DistributionSpec as D;
        let v = |s: Vec<Secs>| s.into_iter().map(|s| s.0).collect();
        match t {
            Tagged::Constant { value } => D::Constant { value: value.0 },
            Tagged::Uniform { min, max } => D::Uniform {
                min: min.0,
                max: max.0,
            },
            Tagged::Triangular { min, mode, max } => D::Triangular {
                min: min.0,
                mode: mode.0,
                max: max.0,
            },
            Tagged::Exponential { mean } => D::Exponential { mean: mean.0 },
            Tagged::Normal { mean, sd } => D::Normal {
                mean: mean.0,
                sd: sd.0,
            },
            Tagged::Lognormal { mean, sd } => D::Lognormal {
                mean: mean.0,
                sd: sd.0,
            },
            Tagged::Gamma { shape, scale } => D::Gamma {
                shape,
                scale: scale.0,
            },
            Tagged::Weibull { shape, scale } => D::Weibull {
                shape,
                scale: scale.0,
            },
            Tagged::Erlang { k, mean } => D::Erlang { k, mean: mean.0 },
            Tagged::Empirical { values, weights } => D::Empirical {
                values: v(values),
                weights,
            },
            Tagged::Histogram { edges, weights } => D::Histogram {
                edges: v(edges),
                weights,
            },
        }
    }
}

/// In a scenario file a distribution is a constant duration, or a table tagged by `dist`.
impl schemars::JsonSchema for DistributionSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Distribution".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let constant = generator.subschema_for::<Secs>();
        let table = generator.subschema_for::<Tagged>();
        schemars::json_schema!({
            "description": "A distribution: a constant duration (\"45s\" or seconds), or a table such as { dist = \"exponential\", mean = \"5m\" }.",
            "anyOf": [constant, table]
        })
    }
}

impl<'de> Deserialize<'de> for DistributionSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DistributionSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a distribution: a constant duration (\"45s\" or seconds) or a table such as { dist = \"exponential\", mean = \"5m\" }")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Secs::deserialize(de::value::I64Deserializer::new(v))
                    .map(|s| DistributionSpec::constant(s.0))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                self.visit_f64(v as f64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Secs::deserialize(de::value::F64Deserializer::new(v))
                    .map(|s| DistributionSpec::constant(s.0))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Secs::deserialize(de::value::StrDeserializer::new(v))
                    .map(|s| DistributionSpec::constant(s.0))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Tagged::deserialize(de::value::MapAccessDeserializer::new(map)).map(Into::into)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn sample_mean(spec: &DistributionSpec, n: usize) -> (f64, f64) {
        let s = spec.sampler().expect("valid");
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let xs: Vec<f64> = (0..n).map(|_| s.sample(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        (m, (var / n as f64).sqrt())
    }

    #[test]
    fn residual_times_follow_the_conditional_distribution() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let n = 40_000;
        let mean_residual = |spec: DistributionSpec, elapsed: f64, rng: &mut Xoshiro256PlusPlus| {
            let s = spec.sampler().expect("valid");
            let xs: Vec<f64> = (0..n).map(|_| s.sample_residual(elapsed, rng)).collect();
            assert!(xs.iter().all(|x| *x >= 0.0));
            xs.iter().sum::<f64>() / n as f64
        };
        // Uniform(0, 10) that has lasted 4: the rest is Uniform(0, 6), mean 3 (sd of the mean 0.009).
        let m = mean_residual(
            DistributionSpec::Uniform {
                min: 0.0,
                max: 10.0,
            },
            4.0,
            &mut rng,
        );
        assert!((m - 3.0).abs() < 0.04, "uniform residual mean {m}");
        // Exponential: memoryless, the residual mean is the mean (sd of the mean 0.01).
        let m = mean_residual(DistributionSpec::exponential(2.0), 50.0, &mut rng);
        assert!((m - 2.0).abs() < 0.05, "exponential residual mean {m}");
        // Constant 5 that has lasted 2: exactly 3 more.
        let m = mean_residual(DistributionSpec::constant(5.0), 2.0, &mut rng);
        assert_eq!(m, 3.0);
    }

    #[test]
    fn sample_means_match_analytic_means() {
        use DistributionSpec::*;
        let specs = [
            Constant { value: 3.0 },
            Uniform { min: 1.0, max: 5.0 },
            Triangular {
                min: 1.0,
                mode: 2.0,
                max: 6.0,
            },
            Exponential { mean: 0.7 },
            Normal { mean: 1.0, sd: 0.8 },
            Lognormal { mean: 0.8, sd: 0.2 },
            Gamma {
                shape: 2.5,
                scale: 1.5,
            },
            Weibull {
                shape: 1.7,
                scale: 100.0,
            },
            Erlang { k: 3, mean: 6.0 },
            Empirical {
                values: vec![1.0, 2.0, 10.0],
                weights: Some(vec![1.0, 1.0, 2.0]),
            },
            Histogram {
                edges: vec![0.0, 1.0, 3.0],
                weights: vec![3.0, 1.0],
            },
        ];
        for spec in specs {
            let (m, se) = sample_mean(&spec, 200_000);
            let expected = spec.mean();
            // 4.5 standard errors: a wrong mean formula or sampler is far outside this.
            assert!(
                (m - expected).abs() <= 4.5 * se + 1e-12,
                "{spec:?}: sample mean {m} vs analytic {expected} (se {se})"
            );
        }
    }

    #[test]
    fn lognormal_matches_requested_sd() {
        let spec = DistributionSpec::Lognormal { mean: 0.8, sd: 0.2 };
        let s = spec.sampler().expect("valid");
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let xs: Vec<f64> = (0..200_000).map(|_| s.sample(&mut rng)).collect();
        let m = xs.iter().sum::<f64>() / xs.len() as f64;
        let sd = (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / xs.len() as f64).sqrt();
        assert!((sd - 0.2).abs() < 0.003, "sd {sd}");
    }

    #[test]
    fn impossible_parameters_are_named() {
        use DistributionSpec::*;
        let bad = [
            (Exponential { mean: 0.0 }, "mean"),
            (Uniform { min: 5.0, max: 1.0 }, "min <= max"),
            (
                Weibull {
                    shape: -1.0,
                    scale: 3.0,
                },
                "shape",
            ),
            (Erlang { k: 0, mean: 1.0 }, "k"),
            (
                Empirical {
                    values: vec![],
                    weights: None,
                },
                "at least one",
            ),
            (
                Histogram {
                    edges: vec![0.0, 2.0, 1.0],
                    weights: vec![1.0, 1.0],
                },
                "increasing",
            ),
            (
                Normal {
                    mean: 1.0,
                    sd: f64::NAN,
                },
                "sd",
            ),
        ];
        for (spec, needle) in bad {
            let err = spec.sampler().expect_err("must be rejected");
            assert!(err.0.contains(needle), "{spec:?}: {err}");
        }
    }

    #[test]
    fn parses_all_written_forms() {
        #[derive(Deserialize)]
        struct T {
            a: DistributionSpec,
            b: DistributionSpec,
            c: DistributionSpec,
            d: DistributionSpec,
        }
        let t: T = toml::from_str(
            r#"
            a = 0.85
            b = "2m"
            c = { dist = "lognormal", mean = "0.8s", sd = 0.2 }
            d = { dist = "weibull", shape = 1.5, scale = "3h" }
            "#,
        )
        .expect("parses");
        assert_eq!(t.a, DistributionSpec::constant(0.85));
        assert_eq!(t.b, DistributionSpec::constant(120.0));
        assert_eq!(t.c, DistributionSpec::Lognormal { mean: 0.8, sd: 0.2 });
        assert_eq!(
            t.d,
            DistributionSpec::Weibull {
                shape: 1.5,
                scale: 10_800.0
            }
        );
        let err = toml::from_str::<T>("a = 1\nb = 1\nc = 1\nd = { dist = \"expo\", mean = 1 }")
            .err()
            .expect("unknown dist");
        assert!(err.to_string().contains("expo"), "{err}");
    }
}
