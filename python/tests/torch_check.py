"""`import torch` and `import newsmill` in one interpreter, in the order given (argv[1]:
"torch-first" or "newsmill-first"); run by scripts/python-test.sh with a Python that has torch.
Annotates, uses torch before and after, and checks that this process holds one libtorch (torch's
own): the engine runs in its own process."""

import sys

order = sys.argv[1]
if order == "torch-first":
    import newsmill
    import torch
else:
    import newsmill
    import torch

x = torch.ones(64, 64) @ torch.ones(64, 64)
with newsmill.Pipeline(precision="int8", workers=1) as nlp:
    records = list(nlp.annotate(["Angela Merkel met Emmanuel Macron in Paris.", "Shares fell."]))
    maps = open("/proc/self/maps").read()
assert [e["text"] for e in records[0]["entities"]] == [
    "Angela Merkel",
    "Emmanuel Macron",
    "Paris",
], records[0]
assert "error" not in records[1]
assert float((torch.ones(64, 64) @ torch.ones(64, 64)).sum()) == float(x.sum())
libs = {line.split()[-1] for line in maps.splitlines() if "libtorch_cpu" in line}
assert len(libs) == 1 and "newsmill_libtorch" not in next(iter(libs)), libs
print(
    f"torch-check {order}: torch {torch.__version__} and newsmill {newsmill.__version__}"
    " in one interpreter: ok"
)
