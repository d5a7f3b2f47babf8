//! Demand: arrivals and order releases, parts entering their routing, the choice of buffer and
//! the queues.

use super::*;

impl Simulation {
    pub(super) fn on_arrival(&mut self) {
        let Some(a) = &self.model.arrivals else {
            return;
        };
        let now = self.now;
        let (product, next) = {
            let src = self.world.get_mut::<Source>(self.topo.source);
            src.arrivals += 1;
            let product = if a.mix_products.len() == 1 {
                a.mix_products[0]
            } else {
                let u: f64 = src.mix.random();
                let i = a.mix_cumulative.partition_point(|c| *c <= u);
                a.mix_products[i.min(a.mix_products.len() - 1)]
            };
            (product, now + a.interarrival.sample(&mut src.interarrival))
        };
        let due = a.due_in_s.map_or(NEVER, |d| now + d);
        if a.until_s.is_none_or(|u| next <= u) {
            self.schedule(next, SimEvent::Arrival);
        }
        self.release_part(product as u32, due, None);
    }

    /// Model index of a part's order, [`NO_ORDER`] for a part without one.
    pub(super) fn order_index(&self, part: &Part) -> u32 {
        part.order
            .map_or(NO_ORDER, |o| self.comp::<OrderState>(o).index)
    }

    pub(super) fn on_order_release(&mut self, order: Entity) {
        let index = {
            let o = self.comp_mut::<OrderState>(order);
            o.released = true;
            o.index as usize
        };
        let model = Arc::clone(&self.model);
        let spec = &model.orders[index];
        let due = spec.due_s.unwrap_or(NEVER);
        for _ in 0..spec.quantity {
            self.release_part(spec.product as u32, due, Some(order));
        }
    }

    /// A new part enters the plant at its first operation.
    pub(super) fn release_part(&mut self, product: u32, due: f64, order: Option<Entity>) {
        let part = Part {
            product,
            released_at: self.now,
            due,
            order,
        };
        self.plant.released += 1;
        self.plant.wip_change(self.now, true);
        let order_index = order.map_or(NO_ORDER, |o| self.comp::<OrderState>(o).index);
        let buffer = self.choose_buffer(product, 0, order_index);
        let b = self.topo.buffers[buffer];
        if self.comp::<BufferQueue>(b).has_room() {
            let entry = self.queue_entry(part, 0);
            self.enqueue(buffer, entry);
        } else {
            self.comp_mut::<BufferQueue>(b)
                .waiting
                .push_back(Waiter::Release(part));
        }
    }

    pub(crate) fn queue_entry(&self, part: Part, operation: u32) -> QueueEntry {
        QueueEntry {
            released_at: part.released_at,
            order_entity: part.order,
            product: part.product,
            operation,
            // Only a plan needs to know the order of a waiting part.
            order: if self.plan.is_some() {
                self.order_index(&part)
            } else {
                NO_ORDER
            },
            due: part.due,
            mean_s: self.topo.step_time(part.product, operation).mean_s,
        }
    }

    /// The input buffer a part goes to for a step: the one station's if one does it (most steps),
    /// else [`Simulation::least_loaded_buffer`]. Under a plan, the buffer of the station planned
    /// for the order's step.
    #[inline(always)]
    pub(crate) fn choose_buffer(&self, product: u32, operation: u32, order: u32) -> usize {
        if let Some(plan) = &self.plan
            && order != NO_ORDER
        {
            let station = plan.station_of[order as usize][operation as usize];
            return self.model.stations[station as usize].input_buffer;
        }
        let only = self.topo.step(product, operation).buffer;
        if only != SEVERAL_STATIONS {
            return only as usize;
        }
        self.least_loaded_buffer(product, operation)
    }

    /// Among the stations that can do a step, the input buffer with the fewest parts per machine
    /// that has room (the first listed on ties); if none has room, the one with the fewest waiting.
    #[inline(never)]
    fn least_loaded_buffer(&self, product: u32, operation: u32) -> usize {
        let op = &self.model.products[product as usize].routing[operation as usize];
        let mut best: Option<(bool, f64, usize)> = None;
        for &s in &op.stations {
            let st = &self.model.stations[s];
            let q = self.comp::<BufferQueue>(self.topo.buffers[st.input_buffer]);
            let room = q.has_room();
            let load = if room {
                q.parts.len() as f64 / f64::from(st.machines)
            } else {
                q.waiting.len() as f64
            };
            let better = match best {
                None => true,
                Some((best_room, best_load, _)) => {
                    (room && !best_room) || (room == best_room && load < best_load)
                }
            };
            if better {
                best = Some((room, load, st.input_buffer));
            }
        }
        best.map_or(0, |b| b.2)
    }

    pub(super) fn enqueue(&mut self, buffer: usize, entry: QueueEntry) {
        let now = self.now;
        push_entry(
            self.world.get_mut::<BufferQueue>(self.topo.buffers[buffer]),
            now,
            entry,
        );
        self.arrived(buffer, entry);
    }

    /// A part was put in a buffer: a plan counts it, and a machine of the buffer's station may
    /// start it.
    pub(super) fn arrived(&mut self, buffer: usize, entry: QueueEntry) {
        if let Some(plan) = &mut self.plan
            && entry.order != NO_ORDER
        {
            plan.arrived[entry.order as usize][entry.operation as usize] += 1;
        }
        let station = self.topo.buffer_station[buffer] as usize;
        for i in self.topo.stations[station].machines() {
            if self.try_start(self.topo.machines[i]) {
                return;
            }
        }
    }
}
