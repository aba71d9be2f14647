"""Every key answers at once: the time from a key to the first frame that shows what it did,
measured while two runs train (their events arrive every step). The goal is 100 ms; this
machine is shared, so the median is asserted, the slowest key only against a hang, and the
numbers are printed (pytest -s)."""

from __future__ import annotations

import statistics

from lab_pilot import LONG, SIZE, PaintClock, launch_until_training, run, two_runs, wait_until

from tui_lab.ui.app import LabApp


def test_keys_paint_within_100_ms_while_two_runs_train():
    async def scenario() -> dict[str, list[float]]:
        app = LabApp(two_runs(), LONG, warm_up=True)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: not any(w.group == "warm-up" for w in app.workers))
            assert app.current_mode == "lab"  # the views were composed unseen
            await launch_until_training(app, pilot, logged=5)
            clock = PaintClock(app)

            async def press(key: str, shows) -> float:
                return await clock.key_to_paint(pilot, key, shows)

            def showing(mode: str):
                return lambda: app.current_mode == mode

            times: dict[str, list[float]] = {"view keys": [], "typing": [], "compare keys": []}
            for key, mode in [("f2", "lab"), ("f5", "search"), ("f4", "toy"), ("f6", "analysis")]:
                times["view keys"].append(await press(key, showing(mode)))
                times["view keys"].append(await press("f3", showing("compare")))
            await press("f2", showing("lab"))
            lr = app.screen.query_one("#field-optimizer-lr")
            app.screen.query_one("#panels").active = "tab-optimizer"
            lr.value = ""
            lr.focus()
            await pilot.pause(0.5)  # the tab's notes are drawn before the first key
            for char in "0.002":
                text = lr.value + char
                times["typing"].append(await press(char, lambda t=text: lr.value == t))
            assert app.model.draft.current.optimizer.lr == 0.002
            assert app.focused is lr
            await press("f3", showing("compare"))
            tables = app.screen.query_one("#tables")
            for _ in range(4):
                before = tables.active
                times["compare keys"].append(await press("t", lambda b=before: tables.active != b))
            app.stop_jobs()
            await app.workers.wait_for_complete()
        return times

    times = run(scenario())
    every = [t for ts in times.values() for t in ts]
    for what, ts in times.items():
        print(f"{what}: " + " ".join(f"{1000 * t:.0f}" for t in ts) + " ms")
    print(f"median {1000 * statistics.median(every):.0f} ms, max {1000 * max(every):.0f} ms")
    assert statistics.median(every) < 0.1
    assert max(every) < 2.0  # one key on a loaded shared machine; a hang would be far more
