//! The reference line (`scenarios/reference-line.toml`) as a hand-written event loop in plain Rust:
//! three machines and two buffers in fixed arrays, a binary-heap calendar, the same random variates
//! as takt's engine (rand_distr's, on one Xoshiro256++ stream). It models that one line and nothing
//! else: no scenario, no ECS, no state clocks, no lead-time percentiles, no trace. The engine bench
//! times it beside takt and SimPy as the ceiling for this model: how fast this line runs when
//! nothing is general.
//!
//! Its rules are those of `simpy/reference_line.py`: blocking after service; each machine fails after
//! exp(100) of calendar time from the end of its last repair and is repaired in exp(5); the part in
//! process resumes its remaining work; a down machine neither takes a part nor starts one, though a
//! part it finished goes on when room is made.

use rand::SeedableRng;
use rand_distr::{Distribution, Exp, LogNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// What one replication measured, as the SimPy model reports it.
#[derive(Debug, Clone)]
pub struct PlainReport {
    pub events: u64,
    pub throughput_per_s: f64,
    pub wip_mean: f64,
    pub lead_time_mean_s: f64,
    pub busy: [f64; 3],
    pub down: [f64; 3],
}

#[derive(Clone, Copy)]
enum Event {
    Arrival,
    WorkEnd { machine: usize, epoch: u32 },
    Failure(usize),
    Repaired(usize),
}

struct Entry {
    time: f64,
    seq: u64,
    event: Event,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: the heap pops the earliest, same-time entries in the order scheduled.
        other
            .time
            .total_cmp(&self.time)
            .then(other.seq.cmp(&self.seq))
    }
}

#[derive(Default, Clone, Copy)]
struct Machine {
    /// The arrival time of the part held, in process or finished and blocked.
    part: Option<f64>,
    remaining_s: f64,
    working_since: f64,
    working: bool,
    blocked: bool,
    broken: bool,
    epoch: u32,
    busy_s: f64,
    down_s: f64,
}

const CAPACITY: [usize; 3] = [usize::MAX, 5, 5];

struct Line {
    now: f64,
    seq: u64,
    calendar: BinaryHeap<Entry>,
    rng: Xoshiro256PlusPlus,
    interarrival: Exp<f64>,
    m1: LogNormal<f64>,
    m3: Exp<f64>,
    time_to_failure: Exp<f64>,
    time_to_repair: Exp<f64>,
    queues: [VecDeque<f64>; 3],
    machines: [Machine; 3],
    wip: u64,
    wip_since: f64,
    wip_integral: f64,
    completed: u64,
    lead_sum_s: f64,
}

impl Line {
    fn schedule(&mut self, time: f64, event: Event) {
        self.seq += 1;
        self.calendar.push(Entry {
            time,
            seq: self.seq,
            event,
        });
    }

    fn wip_change(&mut self, up: bool) {
        self.wip_integral += self.wip as f64 * (self.now - self.wip_since);
        self.wip_since = self.now;
        if up {
            self.wip += 1;
        } else {
            self.wip -= 1;
        }
    }

    fn process_time(&mut self, machine: usize) -> f64 {
        match machine {
            0 => self.m1.sample(&mut self.rng),
            1 => 0.85,
            _ => self.m3.sample(&mut self.rng),
        }
    }

    fn begin_work(&mut self, i: usize) {
        let m = &mut self.machines[i];
        m.working = true;
        m.working_since = self.now;
        m.epoch += 1;
        let (end, epoch) = (self.now + m.remaining_s, m.epoch);
        self.schedule(end, Event::WorkEnd { machine: i, epoch });
    }

    /// An idle machine that is up takes the oldest part waiting for it, which may unblock the
    /// machine upstream.
    fn try_start(&mut self, i: usize) {
        let m = &self.machines[i];
        if m.broken || m.part.is_some() {
            return;
        }
        let Some(part) = self.queues[i].pop_front() else {
            return;
        };
        let work = self.process_time(i);
        let m = &mut self.machines[i];
        m.part = Some(part);
        m.remaining_s = work;
        self.begin_work(i);
        if i > 0 && self.machines[i - 1].blocked {
            let up = &mut self.machines[i - 1];
            let held = up.part.take().expect("a blocked machine holds its part");
            up.blocked = false;
            self.queues[i].push_back(held);
            self.try_start(i - 1);
        }
    }

    fn work_end(&mut self, i: usize) {
        let now = self.now;
        let m = &mut self.machines[i];
        m.working = false;
        m.busy_s += now - m.working_since;
        m.remaining_s = 0.0;
        let part = m.part.expect("a working machine holds its part");
        if i == 2 {
            self.machines[2].part = None;
            self.completed += 1;
            self.lead_sum_s += now - part;
            self.wip_change(false);
        } else if self.queues[i + 1].len() < CAPACITY[i + 1] {
            self.machines[i].part = None;
            self.queues[i + 1].push_back(part);
            self.try_start(i + 1);
        } else {
            self.machines[i].blocked = true;
            return;
        }
        self.try_start(i);
    }

    fn fail(&mut self, i: usize) {
        let now = self.now;
        let repair = self.time_to_repair.sample(&mut self.rng);
        let m = &mut self.machines[i];
        m.broken = true;
        if m.working {
            m.working = false;
            m.busy_s += now - m.working_since;
            m.remaining_s -= now - m.working_since;
            m.epoch += 1;
        }
        m.down_s += repair;
        self.schedule(now + repair, Event::Repaired(i));
    }

    fn repaired(&mut self, i: usize) {
        let ttf = self.time_to_failure.sample(&mut self.rng);
        self.schedule(self.now + ttf, Event::Failure(i));
        let m = &mut self.machines[i];
        m.broken = false;
        if m.part.is_some() && !m.blocked {
            self.begin_work(i);
        } else {
            self.try_start(i);
        }
    }
}

/// One replication of the reference line to `horizon_s`.
pub fn run(horizon_s: f64, seed: u64) -> PlainReport {
    let sigma2 = (1.0f64 + (0.2f64 / 0.8).powi(2)).ln();
    let mut line = Line {
        now: 0.0,
        seq: 0,
        calendar: BinaryHeap::with_capacity(16),
        rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        interarrival: Exp::new(1.0).expect("rate"),
        m1: LogNormal::new(0.8f64.ln() - sigma2 / 2.0, sigma2.sqrt()).expect("lognormal"),
        m3: Exp::new(1.0 / 0.7).expect("rate"),
        time_to_failure: Exp::new(1.0 / 100.0).expect("rate"),
        time_to_repair: Exp::new(1.0 / 5.0).expect("rate"),
        queues: [
            VecDeque::with_capacity(64),
            VecDeque::with_capacity(8),
            VecDeque::with_capacity(8),
        ],
        machines: [Machine::default(); 3],
        wip: 0,
        wip_since: 0.0,
        wip_integral: 0.0,
        completed: 0,
        lead_sum_s: 0.0,
    };
    let first = line.interarrival.sample(&mut line.rng);
    line.schedule(first, Event::Arrival);
    for i in 0..3 {
        let ttf = line.time_to_failure.sample(&mut line.rng);
        line.schedule(ttf, Event::Failure(i));
    }
    let mut events = 0;
    while let Some(next) = line.calendar.peek() {
        if next.time > horizon_s {
            break;
        }
        let next = line.calendar.pop().expect("peeked");
        line.now = next.time;
        match next.event {
            Event::Arrival => {
                line.wip_change(true);
                line.queues[0].push_back(line.now);
                line.try_start(0);
                let gap = line.interarrival.sample(&mut line.rng);
                line.schedule(line.now + gap, Event::Arrival);
            }
            Event::WorkEnd { machine, epoch } => {
                if epoch != line.machines[machine].epoch {
                    continue;
                }
                line.work_end(machine);
            }
            Event::Failure(i) => line.fail(i),
            Event::Repaired(i) => line.repaired(i),
        }
        events += 1;
    }
    line.wip_integral += line.wip as f64 * (horizon_s - line.wip_since);
    PlainReport {
        events,
        throughput_per_s: line.completed as f64 / horizon_s,
        wip_mean: line.wip_integral / horizon_s,
        lead_time_mean_s: line.lead_sum_s / line.completed.max(1) as f64,
        busy: line.machines.map(|m| m.busy_s / horizon_s),
        down: line.machines.map(|m| m.down_s / horizon_s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Queueing theory for the line (shared/notes/bevy-ecs-des.md): throughput 1 per second, busy
    /// fractions arrival rate x mean process time, down 5 / 105 on each machine.
    #[test]
    fn the_plain_line_meets_the_theory() {
        let r = run(2e5, 7);
        assert!((r.throughput_per_s - 1.0).abs() < 0.01, "{r:?}");
        for (busy, expected) in r.busy.iter().zip([0.8, 0.85, 0.7]) {
            assert!((busy - expected).abs() < 0.01, "{r:?}");
        }
        for down in r.down {
            assert!((down - 5.0 / 105.0).abs() < 0.01, "{r:?}");
        }
        // 26.28 ± 0.46 over 20 runs of 1e6 s; one run of 2e5 s spreads more.
        assert!((r.wip_mean - 26.28).abs() < 4.0, "{r:?}");
        // Little's law.
        let little = r.throughput_per_s * r.lead_time_mean_s;
        assert!((r.wip_mean - little).abs() < 0.02 * r.wip_mean, "{r:?}");
    }
}
