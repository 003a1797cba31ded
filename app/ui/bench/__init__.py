"""The operator HMI under load: trend frame rate, GUI stalls during history loads, alarm latency, cold start, RSS.

    python -m app.ui.bench          (or python -m bench.bench_gui, or make bench)

The GUI benchmark, so unlike the rest of the project outside app/ui it imports Qt (PySide6) itself.
Everything is the real thing, offscreen (QT_QPA_PLATFORM=offscreen): the real engine on the simulator with a temp
SQLite file and the real main window (app/ui), started the way ``app.ui.app.run_gui`` starts it. Each part runs in
its own child process (``--part NAME``) so one part's threads, caches and peak RSS cannot leak into the next. Not
pinned to a core: the GUI, the engine's threads and the history worker are meant to share both cores of the panel
PC. Numbers are printed; nothing is asserted. The CPU other processes used meanwhile is printed too: on a shared
2-core box it moves the numbers.

1. trend     (trend.py)   TrendPlots, 16 channel plots + score strip, 36,000 points per curve, one new sample a
                          frame with the x range following live; frames per second.
2. history   (history.py) a 5 ms heartbeat on the GUI thread while the Trends screen loads 8 h and 24 h of
                          stored history with the live plant running; longest gap, and how much of it the GUI
                          thread itself spent on the CPU.
3. alarms    (alarms.py)  acquisition of the frame that raised an alarm -> its row in the Alarms table.
4. cold      (cold.py)    ``main.main(["--windowed", "--simulate", ...])`` in a fresh interpreter -> first live paint.
5. rss       (rss.py)     peak RSS with 8 pumps running through commissioning and two faults.
"""
PARTS = ("trend", "history", "alarms", "cold", "rss")
