//! Lifetime distributions fitted by maximum likelihood, with right-censored observations (a machine
//! still running when the record ends, or renewed by maintenance before it failed): exponential,
//! Weibull and lognormal, compared by AIC, each with 95% confidence intervals of its parameters (from
//! the observed information) and a goodness-of-fit statistic (the largest distance between the
//! fitted CDF and the Kaplan-Meier estimate).

use serde::Serialize;
use statrs::function::erf::erfc;
use statrs::function::gamma::gamma;

/// Observed lifetimes (`observed`) and right-censored ones (`censored`: only known to exceed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    pub observed: Vec<f64>,
    pub censored: Vec<f64>,
}

impl Sample {
    /// Drops values that are not finite and > 0 (a lifetime of 0 carries no information here).
    pub fn clean(mut self) -> Sample {
        self.observed.retain(|x| x.is_finite() && *x > 0.0);
        self.censored.retain(|x| x.is_finite() && *x > 0.0);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Exponential,
    Weibull,
    Lognormal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Parameter {
    pub name: &'static str,
    pub value: f64,
    /// 95% confidence interval.
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Fit {
    pub family: Family,
    pub parameters: Vec<Parameter>,
    pub mean: f64,
    /// Standard deviation of the fitted distribution.
    pub sd: f64,
    pub log_likelihood: f64,
    pub aic: f64,
    /// Largest |fitted CDF − Kaplan-Meier| at the observed lifetimes.
    pub ks: f64,
    pub observed: usize,
    pub censored: usize,
}

impl Fit {
    /// A lifetime known by its parameters rather than fitted to data (a scenario's distribution, a
    /// planning assumption): each interval is the value itself, and no data stand behind it.
    fn known(family: Family, parameters: &[(&'static str, f64)], mean: f64, sd: f64) -> Fit {
        Fit {
            family,
            parameters: parameters
                .iter()
                .map(|&(name, value)| Parameter {
                    name,
                    value,
                    low: value,
                    high: value,
                })
                .collect(),
            mean,
            sd,
            log_likelihood: 0.0,
            aic: 0.0,
            ks: 0.0,
            observed: 0,
            censored: 0,
        }
    }

    /// A known exponential life of mean `mean`.
    pub fn known_exponential(mean: f64) -> Fit {
        Fit::known(Family::Exponential, &[("mean", mean)], mean, mean)
    }

    /// A known Weibull life: F(t) = 1 - exp(-(t / scale)^shape).
    pub fn known_weibull(shape: f64, scale: f64) -> Fit {
        let mean = scale * gamma(1.0 + 1.0 / shape);
        let sd = scale
            * (gamma(1.0 + 2.0 / shape) - (mean / scale).powi(2))
                .max(0.0)
                .sqrt();
        Fit::known(
            Family::Weibull,
            &[("shape", shape), ("scale", scale)],
            mean,
            sd,
        )
    }

    /// A known lognormal life given by the mean and standard deviation of the life itself.
    pub fn known_lognormal(mean: f64, sd: f64) -> Fit {
        let sigma2 = (1.0 + (sd / mean).powi(2)).ln();
        let mu = mean.ln() - sigma2 / 2.0;
        Fit::known(
            Family::Lognormal,
            &[("mu", mu), ("sigma", sigma2.sqrt())],
            mean,
            sd,
        )
    }

    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// The fitted CDF at `t`.
    pub fn cdf(&self, t: f64) -> f64 {
        let p = |n: &str| self.parameter(n).map_or(f64::NAN, |p| p.value);
        if t <= 0.0 {
            return 0.0;
        }
        match self.family {
            Family::Exponential => 1.0 - (-t / p("mean")).exp(),
            Family::Weibull => 1.0 - (-(t / p("scale")).powf(p("shape"))).exp(),
            Family::Lognormal => 1.0 - upper_normal((t.ln() - p("mu")) / p("sigma")),
        }
    }

    /// Survival: the probability of lasting beyond `t`.
    pub fn survival(&self, t: f64) -> f64 {
        1.0 - self.cdf(t)
    }

    /// The density at `t`.
    pub fn pdf(&self, t: f64) -> f64 {
        let p = |n: &str| self.parameter(n).map_or(f64::NAN, |p| p.value);
        if t <= 0.0 {
            return 0.0;
        }
        match self.family {
            Family::Exponential => (-t / p("mean")).exp() / p("mean"),
            Family::Weibull => {
                let (k, l) = (p("shape"), p("scale"));
                k / l * (t / l).powf(k - 1.0) * (-(t / l).powf(k)).exp()
            }
            Family::Lognormal => {
                let (mu, sigma) = (p("mu"), p("sigma"));
                let z = (t.ln() - mu) / sigma;
                (-0.5 * z * z).exp() / (t * sigma * (2.0 * std::f64::consts::PI).sqrt())
            }
        }
    }

    /// The hazard rate at age `t`: failures per unit of time among those still running.
    pub fn hazard(&self, t: f64) -> f64 {
        let s = self.survival(t);
        if s > 0.0 {
            self.pdf(t) / s
        } else {
            f64::INFINITY
        }
    }

    /// The probability of failing within `window` after having lasted `age` without failure.
    pub fn conditional_failure(&self, age: f64, window: f64) -> f64 {
        let s = self.survival(age.max(0.0));
        if s <= 0.0 {
            return 1.0;
        }
        (1.0 - self.survival(age.max(0.0) + window.max(0.0)) / s).clamp(0.0, 1.0)
    }

    /// The mean residual life at `age`: E[T - age | T > age], by integrating the survival function
    /// (Simpson's rule out to where survival is negligible).
    pub fn mean_residual_life(&self, age: f64) -> f64 {
        let age = age.max(0.0);
        let s0 = self.survival(age);
        if s0 <= 0.0 {
            return 0.0;
        }
        // Far enough out: 60 mean lifetimes plus the age, then Simpson on 4,000 panels of a
        // log-spaced grid (the tail of a lognormal is long).
        let end = age + 60.0 * self.mean.max(self.sd);
        let n = 4000;
        let (a, b) = ((1.0f64).ln(), (1.0 + end - age).ln());
        let h = (b - a) / n as f64;
        // Substitute t = age + e^u - 1, dt = e^u du.
        let f = |u: f64| self.survival(age + u.exp() - 1.0) * u.exp();
        let mut sum = f(a) + f(b);
        for i in 1..n {
            sum += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        sum * h / 3.0 / s0
    }

    /// The scenario's distribution syntax (seconds for times).
    pub fn spec(&self) -> String {
        let p = |n: &str| self.parameter(n).map_or(f64::NAN, |p| p.value);
        match self.family {
            Family::Exponential => {
                format!("{{ dist = \"exponential\", mean = {} }}", round(p("mean")))
            }
            Family::Weibull => format!(
                "{{ dist = \"weibull\", shape = {}, scale = {} }}",
                round(p("shape")),
                round(p("scale"))
            ),
            Family::Lognormal => format!(
                "{{ dist = \"lognormal\", mean = {}, sd = {} }}",
                round(self.mean),
                round(self.sd)
            ),
        }
    }
}

/// Four significant digits: enough for a scenario, short to read.
fn round(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 4 - 1 - x.abs().log10().floor() as i32;
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// P(Z > z) for a standard normal Z.
fn upper_normal(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

const Z95: f64 = 1.959_963_984_540_054;

/// Every family that can be fitted, best (lowest AIC) first.
pub fn fit_all(sample: &Sample) -> Vec<Fit> {
    let s = sample.clone().clean();
    let mut fits: Vec<Fit> = [exponential(&s), weibull(&s), lognormal(&s)]
        .into_iter()
        .flatten()
        .collect();
    fits.sort_by(|a, b| a.aic.total_cmp(&b.aic));
    fits
}

pub fn exponential(s: &Sample) -> Option<Fit> {
    let d = s.observed.len();
    if d == 0 {
        return None;
    }
    let total: f64 = s.observed.iter().chain(&s.censored).sum();
    let mean = total / d as f64;
    let ll = -(d as f64) * mean.ln() - total / mean;
    // ln(mean) has standard error 1/sqrt(d).
    let h = Z95 / (d as f64).sqrt();
    Some(finish(
        s,
        Family::Exponential,
        vec![Parameter {
            name: "mean",
            value: mean,
            low: mean * (-h).exp(),
            high: mean * h.exp(),
        }],
        mean,
        mean,
        ll,
    ))
}

fn weibull_ll(s: &Sample, shape: f64, scale: f64) -> f64 {
    let d = s.observed.len() as f64;
    let mut ll = d * (shape.ln() - shape * scale.ln());
    ll += (shape - 1.0) * s.observed.iter().map(|t| t.ln()).sum::<f64>();
    ll -= s
        .observed
        .iter()
        .chain(&s.censored)
        .map(|t| (t / scale).powf(shape))
        .sum::<f64>();
    ll
}

pub fn weibull(s: &Sample) -> Option<Fit> {
    let d = s.observed.len();
    if d < 2 {
        return None;
    }
    let all: Vec<f64> = s.observed.iter().chain(&s.censored).copied().collect();
    let top = all.iter().copied().fold(0.0, f64::max);
    // Scaled by the largest value, so that t^k neither overflows nor vanishes.
    let u: Vec<f64> = all.iter().map(|t| t / top).collect();
    let mean_log_observed = s.observed.iter().map(|t| (t / top).ln()).sum::<f64>() / d as f64;
    // The profile likelihood equation in the shape is increasing: bisection in log space.
    let g = |k: f64| {
        let (mut a, mut b) = (0.0, 0.0);
        for &x in &u {
            let p = x.powf(k);
            a += p * x.ln();
            b += p;
        }
        a / b - 1.0 / k - mean_log_observed
    };
    let (mut lo, mut hi) = (0.01f64.ln(), 100f64.ln());
    if g(lo.exp()) > 0.0 || g(hi.exp()) < 0.0 {
        return None;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid.exp()) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let shape = (0.5 * (lo + hi)).exp();
    let scale = top * (u.iter().map(|x| x.powf(shape)).sum::<f64>() / d as f64).powf(1.0 / shape);
    let ll = weibull_ll(s, shape, scale);
    let se = standard_errors(
        &|a, b| weibull_ll(s, a.exp(), b.exp()),
        shape.ln(),
        scale.ln(),
    );
    let params = vec![
        log_interval("shape", shape, se.0),
        log_interval("scale", scale, se.1),
    ];
    let mean = scale * gamma(1.0 + 1.0 / shape);
    let sd = scale
        * (gamma(1.0 + 2.0 / shape) - gamma(1.0 + 1.0 / shape).powi(2))
            .max(0.0)
            .sqrt();
    Some(finish(s, Family::Weibull, params, mean, sd, ll))
}

fn lognormal_ll(s: &Sample, mu: f64, sigma: f64) -> f64 {
    let norm = 0.5 * (2.0 * std::f64::consts::PI).ln();
    let mut ll = 0.0;
    for &t in &s.observed {
        let z = (t.ln() - mu) / sigma;
        ll += -(sigma * t).ln() - norm - 0.5 * z * z;
    }
    for &t in &s.censored {
        ll += upper_normal((t.ln() - mu) / sigma).max(1e-300).ln();
    }
    ll
}

pub fn lognormal(s: &Sample) -> Option<Fit> {
    let d = s.observed.len();
    if d < 2 {
        return None;
    }
    let logs: Vec<f64> = s.observed.iter().map(|t| t.ln()).collect();
    let m0 = logs.iter().sum::<f64>() / d as f64;
    let v0 = logs.iter().map(|x| (x - m0).powi(2)).sum::<f64>() / d as f64;
    let start = [m0, v0.sqrt().max(1e-3).ln()];
    let f = |x: &[f64; 2]| -lognormal_ll(s, x[0], x[1].exp());
    let best = if s.censored.is_empty() {
        start
    } else {
        nelder_mead(&f, start)
    };
    let (mu, sigma) = (best[0], best[1].exp());
    if !(mu.is_finite() && sigma.is_finite() && sigma > 0.0) {
        return None;
    }
    let ll = lognormal_ll(s, mu, sigma);
    let se = standard_errors(&|a, b| lognormal_ll(s, a, b.exp()), mu, sigma.ln());
    let params = vec![
        Parameter {
            name: "mu",
            value: mu,
            low: mu - Z95 * se.0,
            high: mu + Z95 * se.0,
        },
        log_interval("sigma", sigma, se.1),
    ];
    let mean = (mu + sigma * sigma / 2.0).exp();
    let sd = mean * ((sigma * sigma).exp() - 1.0).max(0.0).sqrt();
    Some(finish(s, Family::Lognormal, params, mean, sd, ll))
}

fn log_interval(name: &'static str, value: f64, se_log: f64) -> Parameter {
    Parameter {
        name,
        value,
        low: value * (-Z95 * se_log).exp(),
        high: value * (Z95 * se_log).exp(),
    }
}

/// Standard errors of two parameters from the inverse of the observed information (the negative
/// Hessian of the log-likelihood, by central differences).
fn standard_errors(ll: &dyn Fn(f64, f64) -> f64, a: f64, b: f64) -> (f64, f64) {
    let h = 1e-4;
    let f = |x: f64, y: f64| ll(x, y);
    let faa = (f(a + h, b) - 2.0 * f(a, b) + f(a - h, b)) / (h * h);
    let fbb = (f(a, b + h) - 2.0 * f(a, b) + f(a, b - h)) / (h * h);
    let fab =
        (f(a + h, b + h) - f(a + h, b - h) - f(a - h, b + h) + f(a - h, b - h)) / (4.0 * h * h);
    // Information matrix I = -H; its inverse gives the variances.
    let (i11, i22, i12) = (-faa, -fbb, -fab);
    let det = i11 * i22 - i12 * i12;
    if det.is_nan() || det <= 0.0 {
        return (f64::NAN, f64::NAN);
    }
    ((i22 / det).sqrt(), (i11 / det).sqrt())
}

fn nelder_mead(f: &dyn Fn(&[f64; 2]) -> f64, start: [f64; 2]) -> [f64; 2] {
    let mut simplex = [
        start,
        [start[0] + 0.5, start[1]],
        [start[0], start[1] + 0.5],
    ];
    let mut values = simplex.map(|x| f(&x));
    for _ in 0..2000 {
        let mut order = [0, 1, 2];
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let (best, mid, worst) = (order[0], order[1], order[2]);
        if (values[worst] - values[best]).abs() < 1e-12 * (1.0 + values[best].abs()) {
            break;
        }
        let centre = [
            (simplex[best][0] + simplex[mid][0]) / 2.0,
            (simplex[best][1] + simplex[mid][1]) / 2.0,
        ];
        let at = |t: f64| {
            [
                centre[0] + t * (simplex[worst][0] - centre[0]),
                centre[1] + t * (simplex[worst][1] - centre[1]),
            ]
        };
        let reflected = at(-1.0);
        let fr = f(&reflected);
        if fr < values[best] {
            let expanded = at(-2.0);
            let fe = f(&expanded);
            (simplex[worst], values[worst]) = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < values[mid] {
            (simplex[worst], values[worst]) = (reflected, fr);
        } else {
            let contracted = at(0.5);
            let fc = f(&contracted);
            if fc < values[worst] {
                (simplex[worst], values[worst]) = (contracted, fc);
            } else {
                for i in [mid, worst] {
                    simplex[i] = [
                        (simplex[i][0] + simplex[best][0]) / 2.0,
                        (simplex[i][1] + simplex[best][1]) / 2.0,
                    ];
                    values[i] = f(&simplex[i]);
                }
            }
        }
    }
    let best = (0..3)
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
        .unwrap_or(0);
    simplex[best]
}

fn finish(
    s: &Sample,
    family: Family,
    parameters: Vec<Parameter>,
    mean: f64,
    sd: f64,
    ll: f64,
) -> Fit {
    let k = parameters.len() as f64;
    let mut fit = Fit {
        family,
        parameters,
        mean,
        sd,
        log_likelihood: ll,
        aic: 2.0 * k - 2.0 * ll,
        ks: 0.0,
        observed: s.observed.len(),
        censored: s.censored.len(),
    };
    fit.ks = kaplan_meier_distance(s, &fit);
    fit
}

/// max |F(t) − (1 − S_KM(t))| over the observed lifetimes, on both sides of each step.
fn kaplan_meier_distance(s: &Sample, fit: &Fit) -> f64 {
    let mut all: Vec<(f64, bool)> = s
        .observed
        .iter()
        .map(|&t| (t, true))
        .chain(s.censored.iter().map(|&t| (t, false)))
        .collect();
    // Failures before censorings at equal times (the usual convention).
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut at_risk = all.len() as f64;
    let mut survival = 1.0;
    let mut worst: f64 = 0.0;
    for (t, failed) in all {
        if failed {
            let before = 1.0 - survival;
            survival *= 1.0 - 1.0 / at_risk;
            let after = 1.0 - survival;
            let f = fit.cdf(t);
            worst = worst.max((f - before).abs()).max((f - after).abs());
        }
        at_risk -= 1.0;
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_distr::{Distribution, LogNormal, Weibull};

    /// Draws `n` lifetimes and censors those beyond `cutoff`.
    fn sample(draw: &mut dyn FnMut() -> f64, n: usize, cutoff: f64) -> Sample {
        let mut s = Sample::default();
        for _ in 0..n {
            let t = draw();
            if t > cutoff {
                s.censored.push(cutoff);
            } else {
                s.observed.push(t);
            }
        }
        s
    }

    /// Share of `runs` seeded samples whose 95% intervals cover each true parameter.
    fn coverage(
        runs: u64,
        draw: &dyn Fn(&mut rand_xoshiro::Xoshiro256PlusPlus) -> f64,
        cutoff: f64,
        family: Family,
        truth: &[(&str, f64)],
    ) -> Vec<f64> {
        let mut covered = vec![0usize; truth.len()];
        let mut chosen = 0;
        for seed in 0..runs {
            let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
            let s = sample(&mut || draw(&mut rng), 300, cutoff);
            let fits = fit_all(&s);
            chosen += usize::from(fits[0].family == family);
            let fit = fits.iter().find(|f| f.family == family).expect("fitted");
            for (i, (name, value)) in truth.iter().enumerate() {
                let p = fit.parameter(name).expect("parameter");
                covered[i] += usize::from(p.low < *value && *value < p.high);
            }
        }
        assert!(
            chosen as f64 >= 0.8 * runs as f64,
            "AIC chose {family:?} {chosen} times"
        );
        covered.iter().map(|&c| c as f64 / runs as f64).collect()
    }

    #[test]
    fn weibull_intervals_cover_the_true_parameters_under_censoring() {
        let truth = Weibull::new(7200.0, 1.8).expect("weibull");
        let cover = coverage(
            100,
            &|rng| truth.sample(rng),
            9000.0,
            Family::Weibull,
            &[("shape", 1.8), ("scale", 7200.0)],
        );
        assert!(
            cover.iter().all(|&c| (0.88..=1.0).contains(&c)),
            "{cover:?}"
        );
    }

    #[test]
    fn lognormal_intervals_cover_the_true_parameters_under_censoring() {
        let truth = LogNormal::new(6.0, 0.5).expect("lognormal");
        let cover = coverage(
            100,
            &|rng| truth.sample(rng),
            700.0,
            Family::Lognormal,
            &[("mu", 6.0), ("sigma", 0.5)],
        );
        assert!(
            cover.iter().all(|&c| (0.88..=1.0).contains(&c)),
            "{cover:?}"
        );
    }

    #[test]
    fn a_censored_weibull_sample_fits_well() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        let truth = Weibull::new(7200.0, 1.8).expect("weibull");
        let s = sample(&mut || truth.sample(&mut rng), 400, 9000.0);
        assert!(s.censored.len() > 40, "{}", s.censored.len());
        let fits = fit_all(&s);
        assert_eq!(fits[0].family, Family::Weibull, "{fits:?}");
        assert!(fits[0].ks < 0.06, "{}", fits[0].ks);
        assert!((fits[0].mean - 7200.0 * gamma(1.0 + 1.0 / 1.8)).abs() < 0.1 * fits[0].mean);
    }

    /// Lieblein and Zelen's ball-bearing fatigue data (millions of revolutions, 23 bearings), the
    /// textbook Weibull example: Lawless, Statistical Models and Methods for Lifetime Data (2003),
    /// gives the MLE shape 2.102 and scale 81.88.
    #[test]
    fn the_ball_bearing_data_give_the_textbook_weibull() {
        let observed = vec![
            17.88, 28.92, 33.00, 41.52, 42.12, 45.60, 48.48, 51.84, 51.96, 54.12, 55.56, 67.80,
            68.64, 68.64, 68.88, 84.12, 93.12, 98.64, 105.12, 105.84, 127.92, 128.04, 173.40,
        ];
        let fit = weibull(&Sample {
            observed,
            censored: vec![],
        })
        .expect("fits");
        let shape = fit.parameter("shape").expect("shape").value;
        let scale = fit.parameter("scale").expect("scale").value;
        assert!((shape - 2.102).abs() < 0.005, "shape {shape}");
        assert!((scale - 81.88).abs() < 0.05, "scale {scale}");
    }

    #[test]
    fn hazard_risk_and_residual_life_match_closed_forms() {
        let weibull = Fit::known_weibull(2.0, 100.0);
        // The moments of a known life are the family's: mean 100 Γ(1.5), sd 100 √(Γ(2) - Γ(1.5)²).
        assert!((weibull.mean - 100.0 * gamma(1.5)).abs() < 1e-9);
        assert!((weibull.sd - 100.0 * (gamma(2.0) - gamma(1.5).powi(2)).sqrt()).abs() < 1e-9);
        let lognormal = Fit::known_lognormal(50.0, 20.0);
        let (mu, sigma) = (
            lognormal.parameter("mu").map_or(f64::NAN, |p| p.value),
            lognormal.parameter("sigma").map_or(f64::NAN, |p| p.value),
        );
        // E[T] = exp(mu + sigma²/2), Var[T] = (exp(sigma²) - 1) E[T]².
        assert!(((mu + sigma * sigma / 2.0).exp() - 50.0).abs() < 1e-9);
        assert!((((sigma * sigma).exp() - 1.0) * 2500.0 - 400.0).abs() < 1e-6);
        // Weibull hazard k/l (t/l)^(k-1): at 50, 2/100 * 0.5 = 0.01.
        assert!((weibull.hazard(50.0) - 0.01).abs() < 1e-12);
        // P(T <= 60 | T > 50) = 1 - exp(-(0.6^2 - 0.5^2)) = 1 - exp(-0.11).
        let p = weibull.conditional_failure(50.0, 10.0);
        assert!((p - (1.0 - (-0.11f64).exp())).abs() < 1e-12, "{p}");
        // At age 0 the mean residual life is the mean, 100 Γ(1.5) = 88.62.
        let m = weibull.mean_residual_life(0.0);
        assert!((m - 100.0 * gamma(1.5)).abs() < 1e-3, "{m}");
        // Increasing hazard (shape > 1): an older machine has less life left.
        assert!(weibull.mean_residual_life(80.0) < m);
        // Exponential: memoryless, the residual life is the mean at any age.
        let exp = exponential(&Sample {
            observed: vec![10.0, 30.0, 20.0],
            censored: vec![],
        })
        .expect("fits");
        assert!((exp.mean_residual_life(500.0) - 20.0).abs() < 1e-3);
        assert!((exp.hazard(3.0) - 0.05).abs() < 1e-12);
    }

    #[test]
    fn exponential_matches_the_closed_form_and_weibull_nests_it() {
        // With censoring, the MLE of the mean is the total time on test over the failures.
        let s = Sample {
            observed: vec![3.0, 5.0, 8.0, 12.0],
            censored: vec![10.0, 10.0],
        };
        let e = exponential(&s).expect("fit");
        assert!((e.mean - 48.0 / 4.0).abs() < 1e-12);
        // With exponential lifetimes the Weibull shape comes out near 1 on a large sample.
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let draws = sample(&mut || -300.0 * (1.0 - rng.random::<f64>()).ln(), 2000, 1e9);
        let w = weibull(&draws).expect("weibull");
        let shape = w.parameter("shape").expect("shape");
        assert!(shape.low < 1.0 && 1.0 < shape.high, "{shape:?}");
    }

    #[test]
    fn the_weibull_fit_is_a_maximum_of_the_censored_likelihood() {
        // Heavily censored: the fitted shape solves the profile equation, so no nearby point has a
        // higher log-likelihood.
        let s = Sample {
            observed: vec![230.0, 334.0, 423.0, 990.0, 1009.0, 1510.0],
            censored: vec![1000.0; 8],
        };
        let w = weibull(&s).expect("fit");
        let (k, l) = (w.parameters[0].value, w.parameters[1].value);
        let best = weibull_ll(&s, k, l);
        for (dk, dl) in [(1.01, 1.0), (0.99, 1.0), (1.0, 1.01), (1.0, 0.99)] {
            assert!(weibull_ll(&s, k * dk, l * dl) < best);
        }
    }
}
