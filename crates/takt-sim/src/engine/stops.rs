//! Stops: failures and repairs, the repair crews, planned maintenance, the shift calendar, and
//! pausing and resuming work over them.

use super::*;

impl Simulation {
    /// Applies a change to a machine's stop flags and carries out what follows: pausing or resuming its
    /// work, freezing or restarting calendar-time failure clocks, and re-deriving its state.
    pub(super) fn change_flags(&mut self, m: Entity, change: impl FnOnce(&mut Machine)) {
        let (was_stopped, was_frozen, is_stopped, is_frozen, station) = {
            let mach = self.machine_mut(m);
            let (ws, wf) = (mach.stopped(), mach.clocks_frozen());
            change(mach);
            (
                ws,
                wf,
                mach.stopped(),
                mach.clocks_frozen(),
                mach.station as usize,
            )
        };
        if !was_stopped && is_stopped {
            self.pause(m, station);
        }
        if !was_frozen && is_frozen && self.topo.stations[station].has_calendar_modes {
            self.freeze_calendar_clocks(m, station);
        }
        if was_frozen && !is_frozen && self.topo.stations[station].has_calendar_modes {
            self.thaw_calendar_clocks(m, station);
        }
        self.update_state(m);
        if was_stopped && !is_stopped {
            self.resume(m, station);
        }
    }

    pub(super) fn pause(&mut self, m: Entity, station: usize) {
        let now = self.now;
        let activity = {
            let mach = self.machine_mut(m);
            if matches!(mach.activity, Activity::Setup | Activity::Processing) {
                mach.remaining_s = mach.activity_end - now;
                mach.epoch = mach.epoch.wrapping_add(1);
            }
            mach.activity
        };
        if activity == Activity::Processing {
            self.end_segment(m, station);
        }
    }

    pub(super) fn resume(&mut self, m: Entity, station: usize) {
        let now = self.now;
        let (activity, remaining, blocked_on) = {
            let mach = self.machine(m);
            (mach.activity, mach.remaining_s, mach.blocked_on)
        };
        match activity {
            Activity::Setup | Activity::Processing => {
                let epoch = {
                    let mach = self.machine_mut(m);
                    mach.activity_end = now + remaining;
                    mach.segment_start = now;
                    mach.epoch = mach.epoch.wrapping_add(1);
                    mach.epoch
                };
                self.schedule(now + remaining, SimEvent::ActivityEnd { machine: m, epoch });
                if activity == Activity::Processing {
                    self.arm_operating_failures(m, station, remaining);
                }
            }
            Activity::Blocked => {
                // It kept its place in the waiting line; if there is room now, it unloads.
                if let Some(buffer) = blocked_on {
                    self.on_room(buffer as usize);
                }
            }
            Activity::Idle => {
                self.try_start(m);
            }
        }
    }

    pub(super) fn freeze_calendar_clocks(&mut self, m: Entity, station: usize) {
        let model = Arc::clone(&self.model);
        let now = self.now;
        let mach = self.machine_mut(m);
        for (fi, f) in model.stations[station].failure_modes.iter().enumerate() {
            let ms = &mut mach.modes[fi];
            if f.basis == FailureBasis::Calendar && !ms.active {
                ms.remaining = (ms.due_at - now).max(0.0);
                ms.epoch = ms.epoch.wrapping_add(1);
            }
        }
    }

    pub(crate) fn thaw_calendar_clocks(&mut self, m: Entity, station: usize) {
        let model = Arc::clone(&self.model);
        let now = self.now;
        let mut due = Vec::new();
        {
            let mach = self.machine_mut(m);
            for (fi, f) in model.stations[station].failure_modes.iter().enumerate() {
                let ms = &mut mach.modes[fi];
                if f.basis == FailureBasis::Calendar && !ms.active {
                    ms.due_at = now + ms.remaining;
                    ms.epoch = ms.epoch.wrapping_add(1);
                    due.push((ms.due_at, fi as u16, ms.epoch));
                }
            }
        }
        for (t, mode, epoch) in due {
            self.schedule(
                t,
                SimEvent::Failure {
                    machine: m,
                    mode,
                    epoch,
                },
            );
        }
    }

    pub(super) fn draw_ttf(&mut self, m: Entity, mode: usize) -> f64 {
        self.draw_ttf_after(m, mode, 0.0)
    }

    /// An age budget for a mode that has already aged `age` (in its basis) without failing: the
    /// budget still to go, drawn given it exceeds `age`. At age 0 it is the plain draw.
    pub(crate) fn draw_ttf_after(&mut self, m: Entity, mode: usize, age: f64) -> f64 {
        let station = self.machine(m).station as usize;
        let model = Arc::clone(&self.model);
        let f = &model.stations[station].failure_modes[mode];
        let x = f
            .ttf
            .sample_residual(age, &mut self.machine_mut(m).streams.failures[mode].0);
        if f.basis == FailureBasis::Cycles {
            x.round().max(1.0)
        } else {
            x
        }
    }

    pub(super) fn fail(&mut self, m: Entity, mode: usize) {
        let now = self.now;
        {
            let mach = self.machine_mut(m);
            let ms = &mut mach.modes[mode];
            ms.active = true;
            ms.failed_at = now;
            ms.failures += 1;
        }
        self.change_flags(m, |mach| {
            mach.active_failures += 1;
            mach.last_failure_mode = mode as u16;
        });
        let station = self.machine(m).station as usize;
        match self.model.stations[station].failure_modes[mode].crew {
            Some(crew) => self.request_crew(
                crew,
                CrewJob::Repair {
                    machine: m,
                    mode: mode as u16,
                },
            ),
            None => self.start_repair(m, mode),
        }
    }

    pub(super) fn start_repair(&mut self, m: Entity, mode: usize) {
        let station = self.machine(m).station as usize;
        let model = Arc::clone(&self.model);
        let d = model.stations[station].failure_modes[mode]
            .ttr
            .sample(&mut self.machine_mut(m).streams.failures[mode].1);
        self.schedule(
            self.now + d,
            SimEvent::RepairEnd {
                machine: m,
                mode: mode as u16,
            },
        );
    }

    pub(super) fn on_repair_end(&mut self, m: Entity, mode: usize) {
        let now = self.now;
        let station = self.machine(m).station as usize;
        if let Some(crew) = self.model.stations[station].failure_modes[mode].crew {
            self.release_crew(crew);
        }
        let fresh = self.draw_ttf(m, mode);
        {
            let mach = self.machine_mut(m);
            let ms = &mut mach.modes[mode];
            ms.active = false;
            ms.remaining = fresh;
            ms.repairs += 1;
            ms.repair_s += now - ms.failed_at;
        }
        // Unfreezing restarts the calendar clocks, this mode's fresh one included.
        self.change_flags(m, |mach| mach.active_failures -= 1);
    }

    pub(super) fn request_crew(&mut self, crew: usize, job: CrewJob) {
        let now = self.now;
        let start = {
            let c = self.comp_mut::<CrewState>(self.topo.crews[crew]);
            if c.free > 0 {
                c.busy_s += f64::from(c.count - c.free) * (now - c.busy_since);
                c.busy_since = now;
                c.free -= 1;
                true
            } else {
                c.queue.push_back(job);
                false
            }
        };
        if start {
            self.start_crew_job(job);
        }
    }

    pub(super) fn release_crew(&mut self, crew: usize) {
        let now = self.now;
        let next = {
            let c = self.comp_mut::<CrewState>(self.topo.crews[crew]);
            match c.queue.pop_front() {
                Some(job) => Some(job),
                None => {
                    c.busy_s += f64::from(c.count - c.free) * (now - c.busy_since);
                    c.busy_since = now;
                    c.free += 1;
                    None
                }
            }
        };
        if let Some(job) = next {
            self.start_crew_job(job);
        }
    }

    pub(super) fn start_crew_job(&mut self, job: CrewJob) {
        match job {
            CrewJob::Repair { machine, mode } => self.start_repair(machine, mode as usize),
            CrewJob::Maintenance { machine } => self.begin_maintenance(machine),
        }
    }

    pub(super) fn on_maintenance_due(&mut self, m: Entity) {
        let station = self.machine(m).station as usize;
        let model = Arc::clone(&self.model);
        let Some(mt) = &model.stations[station].maintenance else {
            return;
        };
        let next = mt.following(self.machine(m).next_maintenance_at);
        self.machine_mut(m).next_maintenance_at = next.unwrap_or(NEVER);
        if let Some(next) = next {
            self.schedule(next, SimEvent::MaintenanceDue(m));
        }
        if self.machine(m).planned_down || self.machine(m).maintenance_waiting {
            return; // the previous one is still going on or waiting for its crew: skip this one
        }
        match mt.crew {
            Some(crew) => {
                self.machine_mut(m).maintenance_waiting = true;
                self.request_crew(crew, CrewJob::Maintenance { machine: m });
            }
            None => self.begin_maintenance(m),
        }
    }

    pub(super) fn begin_maintenance(&mut self, m: Entity) {
        let station = self.machine(m).station as usize;
        let model = Arc::clone(&self.model);
        let Some(mt) = &model.stations[station].maintenance else {
            return;
        };
        let d = mt
            .duration
            .sample(&mut self.machine_mut(m).streams.maintenance);
        self.change_flags(m, |mach| {
            mach.planned_down = true;
            mach.maintenance_waiting = false;
            mach.counts.maintenances += 1;
        });
        self.schedule(self.now + d, SimEvent::MaintenanceEnd(m));
    }

    pub(super) fn on_maintenance_end(&mut self, m: Entity) {
        let station = self.machine(m).station as usize;
        let model = Arc::clone(&self.model);
        let Some(mt) = &model.stations[station].maintenance else {
            return;
        };
        if let Some(crew) = mt.crew {
            self.release_crew(crew);
        }
        if mt.renews {
            for fi in 0..model.stations[station].failure_modes.len() {
                if !self.machine(m).modes[fi].active {
                    let fresh = self.draw_ttf(m, fi);
                    let mach = self.machine_mut(m);
                    let ms = &mut mach.modes[fi];
                    ms.remaining = fresh;
                    ms.epoch = ms.epoch.wrapping_add(1);
                }
            }
        }
        self.change_flags(m, |mach| mach.planned_down = false);
    }

    pub(super) fn on_calendar_change(&mut self) {
        let model = Arc::clone(&self.model);
        let Some(cal) = &model.calendar else { return };
        let (on, next) = cal.at(&model.timebase, self.now);
        for (si, st) in model.stations.iter().enumerate() {
            if !st.follows_calendar {
                continue;
            }
            for i in self.topo.stations[si].machines() {
                let m = self.topo.machines[i];
                if self.machine(m).off_shift == on {
                    self.change_flags(m, |mach| mach.off_shift = !on);
                }
            }
        }
        self.schedule(next, SimEvent::CalendarChange);
    }

    /// Discards the statistics gathered so far (end of warm-up); the model state is untouched.
    pub fn reset_statistics(&mut self) {
        let now = self.now;
        for &m in &self.topo.machines.clone() {
            let mach = self.machine_mut(m);
            mach.clock = StateClock::new(now, mach.clock.state);
            mach.counts = PieceCounts::default();
            for ms in mach.modes.iter_mut() {
                (ms.failures, ms.repairs, ms.repair_s) = (0, 0, 0.0);
            }
        }
        for &b in &self.topo.buffers.clone() {
            let q = self.comp_mut::<BufferQueue>(b);
            q.level_integral = 0.0;
            q.level_since = now;
            q.max_level = q.parts.len() as u32;
        }
        for &c in &self.topo.crews.clone() {
            let crew = self.comp_mut::<CrewState>(c);
            crew.busy_s = 0.0;
            crew.busy_since = now;
        }
        self.plant = PlantStats::new(now, self.plant.wip, self.plant.completed_total);
    }
}
