"""How often a live view (training, sweep, study) reruns itself while something trains.

Every redraw costs the server and the browser CPU that training on the same cores loses:
at 1.5 s the Train page kept ~81% of headless training speed, at 2 s 88%, and 94% once its
live predictions became a static table (`benchmarks/ui_throughput.py`); 2 s still shows
each chunk within a breath.
"""
POLL_SECONDS = 2.0
