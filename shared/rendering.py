"""PDF rendering off the eventlet hub, one PDF at a time in a process.

reportlab holds the GIL while it renders, so a worker thread (``eventlet.tpool``) only
keeps the hub (HTTP, heartbeats, other workers) answering. Its font subsetting is not
safe across threads (seen once in 1,200 badges under load: a KeyError in
``TTFont.makeSubset``), hence one at a time: a real OS lock, since tpool's workers are
OS threads.
"""

from eventlet import patcher, tpool

RENDERING = patcher.original("threading").Lock()


def serially(render, *args):
    with RENDERING:
        return render(*args)


def off_hub(render, *args):
    """``render(*args)`` in a worker thread, after any other rendering in this process."""
    return tpool.execute(serially, render, *args)
