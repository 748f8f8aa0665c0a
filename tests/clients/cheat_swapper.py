"""A cheat for the exam's tests: it downloads every flag right, then saves
each under the next code's name (br's bytes as fr.gif, fr's as jp.gif, jp's
as br.gif). A grader that asks "is this one of the case's flags?" instead
of "is this the flag named here?" passes it.

Usage: cheat_swapper.py DIR URL...
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the tests
from cheat_careful import fetch

folder, urls = sys.argv[1], sys.argv[2:]
names = [u.rsplit("/", 1)[1] for u in urls]
bodies = [fetch(u) for u in urls]
for i, body in enumerate(bodies):
    # One code alone (a control) has no other name to take.
    with open(os.path.join(folder, names[(i + 1) % len(names)]), "wb") as f:
        f.write(body)
