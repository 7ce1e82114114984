"""make bench: writes the template (argv[1]) with the run's figures (argv[2],
lines of NAME<tab>VALUE, "\\n" in a value for a line break) in place of
each {{NAME}}. A placeholder without a figure is an error: every figure on
the page comes from the run."""
import re
import sys

figures = {}
with open(sys.argv[2], encoding="utf-8") as f:
    for line in f:
        name, _, value = line.rstrip("\n").partition("\t")
        figures[name] = value.replace("\\n", "\n").rstrip("\n")
with open(sys.argv[1], encoding="utf-8") as f:
    page = f.read()
missing = sorted(set(re.findall(r"\{\{(\w+)\}\}", page)) - figures.keys())
if missing:
    sys.exit("bench: no figure for " + ", ".join(missing))
sys.stdout.write(re.sub(r"\{\{(\w+)\}\}", lambda m: figures[m.group(1)], page))
