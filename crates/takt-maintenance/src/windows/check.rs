//! A plan checked from its windows alone, whichever solver made it.

use super::{MaintenancePlan, Window, WindowProblem, ageing, span_risk};

/// Every rule a plan must keep, checked from its windows alone: services of one machine do not
/// overlap, lie inside the horizon and the allowed buckets, stay within the crew's capacity, and
/// every span between two renewals of a machine keeps its risk within the limit. Returns the
/// violations.
pub fn check(p: &WindowProblem, plan: &MaintenancePlan) -> Vec<String> {
    let mut problems = Vec::new();
    let mut crew = vec![0u32; p.buckets];
    for m in &p.machines {
        let mut mine: Vec<&Window> = plan
            .windows
            .iter()
            .filter(|w| w.machine == m.name)
            .collect();
        mine.sort_by_key(|w| w.start_bucket);
        let d = m.duration_buckets;
        let clocks: Vec<Vec<f64>> = m.modes.iter().map(|mode| ageing(p, mode)).collect();
        // (start of the span, fresh?) .. end of the span; the bucket the last service ends in.
        let mut since = (0.0, false);
        let mut busy_until = 0;
        for w in &mine {
            let s = w.start_bucket;
            if s + d > p.buckets {
                problems.push(format!("{} serviced past the horizon", m.name));
                continue;
            }
            if s < busy_until {
                problems.push(format!("{}: services overlap at bucket {s}", m.name));
                continue;
            }
            for (t, used) in crew.iter_mut().enumerate().skip(s).take(d) {
                if !p.allowed[t] {
                    problems.push(format!("{} serviced in closed bucket {t}", m.name));
                }
                *used += m.crew;
            }
            let r = span_risk(m, &clocks, since.0, s as f64, since.1);
            if r > p.max_risk + 1e-9 {
                problems.push(format!("{} reaches risk {r:.3} before bucket {s}", m.name));
            }
            since = (s as f64 + m.renewed_after(p.bucket_s), true);
            busy_until = s + d;
        }
        let end = p.buckets as f64;
        let r = span_risk(m, &clocks, since.0.min(end), end, since.1);
        if r > p.max_risk + 1e-9 {
            problems.push(format!("{} reaches risk {r:.3} before the horizon", m.name));
        }
    }
    for (t, (&used, &cap)) in crew.iter().zip(&p.crew).enumerate() {
        if used > cap {
            problems.push(format!(
                "bucket {t}: {used} crew members busy, {cap} available"
            ));
        }
    }
    problems
}
