"""The reference serial line of scenarios/reference-line.toml in SimPy, for a side-by-side comparison
with takt: same model, same horizon. Prints one JSON object per replication.

Source -> M1 -> B1(5) -> M2 -> B2(5) -> M3 -> Sink. Arrivals exp(1); M1 lognormal(mean 0.8, sd 0.2),
M2 constant 0.85, M3 exp(0.7); blocking after service; each machine fails after exp(100) of calendar
time counted from the end of its last repair, repair exp(5); the part in process resumes its remaining
work. A down machine neither takes a part nor starts one.
"""

import argparse
import json
import math
import random
import time

import simpy


class Line:
    def __init__(self, env, rng):
        self.env = env
        self.rng = rng
        self.queues = [simpy.Store(env), simpy.Store(env, capacity=5), simpy.Store(env, capacity=5)]
        self.sink = None
        self.wip = 0
        self.wip_since = 0.0
        self.wip_integral = 0.0
        self.completed = 0
        self.lead_sum = 0.0
        self.busy = [0.0, 0.0, 0.0]
        self.down = [0.0, 0.0, 0.0]
        sigma2 = math.log(1 + (0.2 / 0.8) ** 2)
        self.ln_mu, self.ln_sigma = math.log(0.8) - sigma2 / 2, math.sqrt(sigma2)

    def wip_change(self, delta):
        now = self.env.now
        self.wip_integral += self.wip * (now - self.wip_since)
        self.wip_since = now
        self.wip += delta

    def process_time(self, i):
        if i == 0:
            return self.rng.lognormvariate(self.ln_mu, self.ln_sigma)
        if i == 1:
            return 0.85
        return self.rng.expovariate(1 / 0.7)

    def source(self):
        while True:
            yield self.env.timeout(self.rng.expovariate(1.0))
            self.wip_change(+1)
            yield self.queues[0].put(self.env.now)


class Machine:
    def __init__(self, line, i):
        self.line, self.i, self.env = line, i, line.env
        self.broken = False
        self.repaired = self.env.event()
        self.working = False
        self.proc = self.env.process(self.run())
        self.env.process(self.failures())

    def run(self):
        line, env = self.line, self.env
        out = line.queues[self.i + 1] if self.i < 2 else None
        while True:
            while self.broken:
                yield self.repaired
            part = yield line.queues[self.i].get()
            remaining = line.process_time(self.i)
            while remaining > 0:
                while self.broken:
                    yield self.repaired
                start = env.now
                self.working = True
                try:
                    yield env.timeout(remaining)
                    remaining = 0
                except simpy.Interrupt:
                    remaining -= env.now - start
                self.working = False
                line.busy[self.i] += env.now - start
            if out is None:
                line.completed += 1
                line.lead_sum += env.now - part
                line.wip_change(-1)
            else:
                yield out.put(part)
                while self.broken:
                    yield self.repaired

    def failures(self):
        env, line = self.env, self.line
        while True:
            yield env.timeout(line.rng.expovariate(1 / 100))
            self.broken = True
            if self.working:
                self.proc.interrupt()
            repair = line.rng.expovariate(1 / 5)
            yield env.timeout(repair)
            line.down[self.i] += repair
            self.broken = False
            self.repaired.succeed()
            self.repaired = env.event()


def replicate(horizon, seed):
    env = simpy.Environment()
    line = Line(env, random.Random(seed))
    for i in range(3):
        Machine(line, i)
    env.process(line.source())
    started = time.perf_counter()
    env.run(until=horizon)
    wall = time.perf_counter() - started
    line.wip_change(0)
    return {
        "seed": seed,
        "wall_s": wall,
        "throughput": line.completed / horizon,
        "wip_mean": line.wip_integral / horizon,
        "lead_time_mean": line.lead_sum / max(line.completed, 1),
        "busy": [b / horizon for b in line.busy],
        "down": [d / horizon for d in line.down],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--horizon", type=float, default=1e5)
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for r in range(args.replications):
        print(json.dumps(replicate(args.horizon, args.seed + r)), flush=True)
