//! An independent feasibility checker: it reads only the problem and the start/end times of a
//! schedule, never the solver's sequences, so that every solver is judged the same way.

use crate::problem::{Schedule, ShopProblem};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

/// Every constraint the schedule breaks (empty when feasible).
pub fn check(p: &ShopProblem, s: &Schedule) -> Vec<Violation> {
    let mut v = Vec::new();
    let mut bad = |m: String| v.push(Violation(m));
    let owner = p.op_owner();
    if s.operations.len() != owner.len() {
        bad(format!(
            "{} operations scheduled, the problem has {}",
            s.operations.len(),
            owner.len()
        ));
        return v;
    }
    for (id, (o, &(j, k))) in s.operations.iter().zip(&owner).enumerate() {
        if (o.job, o.operation) != (j, k) {
            bad(format!(
                "entry {id} is job {} op {}, expected job {j} op {k}",
                o.job, o.operation
            ));
            continue;
        }
        match p.duration(j, k, o.machine) {
            None => bad(format!(
                "job {j} op {k} on machine {}, which is not eligible",
                o.machine
            )),
            Some(d) if o.machine < p.machines && p.working_time(o.machine, o.start, o.end) != d => {
                bad(format!(
                    "job {j} op {k} lasts {} (working time) on machine {}, not {d}",
                    p.working_time(o.machine, o.start, o.end),
                    o.machine
                ))
            }
            Some(_) => {}
        }
        if o.setup_start > o.start {
            bad(format!("job {j} op {k}: setup starts after the operation"));
        }
        if k == 0 && o.start < p.jobs[j].release {
            bad(format!(
                "job {j} starts at {} before its release {}",
                o.start, p.jobs[j].release
            ));
        }
        if p.setup_needs_job {
            let ready = if k == 0 {
                p.jobs[j].release
            } else {
                s.operations[id - 1].end
            };
            if o.setup_start < ready {
                bad(format!(
                    "job {j} op {k}: setup starts at {} before the job is there at {ready}",
                    o.setup_start
                ));
            }
        }
        if k > 0 {
            let prev = &s.operations[id - 1];
            if o.start < prev.end {
                bad(format!(
                    "job {j} op {k} starts at {} before op {} ends at {}",
                    o.start,
                    k - 1,
                    prev.end
                ));
            }
        }
        for &(a, b) in p.unavailable.get(o.machine).map_or(&[][..], |w| &w[..]) {
            if o.setup_start < b && a < o.end {
                bad(format!(
                    "job {j} op {k} on machine {} overlaps its unavailability [{a}, {b})",
                    o.machine
                ));
            }
        }
    }
    // Machine capacity and setups: consecutive operations on a machine, by start.
    for m in 0..p.machines {
        let mut on: Vec<usize> = (0..s.operations.len())
            .filter(|&i| s.operations[i].machine == m)
            .collect();
        on.sort_by_key(|&i| (s.operations[i].start, i));
        for w in on.windows(2) {
            let (a, b) = (&s.operations[w[0]], &s.operations[w[1]]);
            if b.setup_start < a.end {
                bad(format!(
                    "machine {m}: job {} op {} (setup from {}) overlaps job {} op {} (until {})",
                    b.job, b.operation, b.setup_start, a.job, a.operation, a.end
                ));
            }
            let need = p.setup(m, Some(w[0]), w[1]);
            let got = p.working_time(m, b.setup_start, b.start);
            if got < need {
                bad(format!(
                    "machine {m}: job {} op {} after job {} op {} needs a setup of {need}, got {got}",
                    b.job, b.operation, a.job, a.operation
                ));
            }
        }
    }
    v
}
