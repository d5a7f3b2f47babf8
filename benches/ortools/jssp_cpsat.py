"""Google OR-Tools CP-SAT on a job-shop instance (OR-Library format), for a side-by-side comparison
with takt's scheduler: same instance, same time budget, 2 workers. Prints one JSON line."""

import argparse
import json
import time

from ortools.sat.python import cp_model


def read_jssp(path):
    with open(path) as f:
        lines = [l.split() for l in f if l.strip()]
    n, m = int(lines[0][0]), int(lines[0][1])
    jobs = []
    for j in range(n):
        row = list(map(int, lines[1 + j]))
        jobs.append([(row[2 * k], row[2 * k + 1]) for k in range(len(row) // 2)])
    return n, m, jobs


def solve(path, seconds, workers):
    n, m, jobs = read_jssp(path)
    horizon = sum(d for job in jobs for _, d in job)
    model = cp_model.CpModel()
    ends, per_machine = [], [[] for _ in range(m)]
    for j, job in enumerate(jobs):
        prev = None
        for k, (machine, d) in enumerate(job):
            s = model.NewIntVar(0, horizon, f"s{j}_{k}")
            e = model.NewIntVar(0, horizon, f"e{j}_{k}")
            per_machine[machine].append(model.NewIntervalVar(s, d, e, f"i{j}_{k}"))
            if prev is not None:
                model.Add(s >= prev)
            prev = e
        ends.append(prev)
    for intervals in per_machine:
        model.AddNoOverlap(intervals)
    makespan = model.NewIntVar(0, horizon, "makespan")
    model.AddMaxEquality(makespan, ends)
    model.Minimize(makespan)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = workers
    started = time.perf_counter()
    status = solver.Solve(model)
    return {
        "makespan": int(solver.Value(makespan)) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None,
        "optimal": status == cp_model.OPTIMAL,
        "bound": int(solver.BestObjectiveBound()),
        "wall_s": time.perf_counter() - started,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("instance")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(solve(args.instance, args.seconds, args.workers)), flush=True)
