"""Every key answers while two runs train (their events arrive every step): the view keys,
typing a learning rate and the Compare view's tables each show what they did, and training
goes on meanwhile. The time from each key to the first frame that shows its effect is printed
(pytest -s); the 100 ms goal is measured by ``bench/key_latency.py``, not asserted here, as
this machine is shared and its load is not ours to control."""

from __future__ import annotations

from lab_pilot import (
    LONG,
    SIZE,
    latency_lines,
    launch_until_training,
    run,
    two_runs,
    wait_until,
    walk_keys,
)

from tui_lab.ui.app import LabApp


def test_every_key_shows_its_effect_while_two_runs_train():
    async def scenario() -> dict[str, list[float]]:
        app = LabApp(two_runs(), LONG, warm_up=True)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: not any(w.group == "warm-up" for w in app.workers))
            assert app.current_mode == "lab"  # the views were composed unseen
            runs = await launch_until_training(app, pilot, logged=5)
            logged = {name: len(r.steps) for name, r in runs.items()}
            times = await walk_keys(app, pilot)
            # both runs went on training through the walk, and still do
            assert all(len(r.steps) > logged[name] for name, r in runs.items())
            assert all(r.status == "running" for r in runs.values())
            app.stop_jobs()
            await app.workers.wait_for_complete()
        return times

    times = run(scenario())
    print("\n".join(latency_lines(times)))
