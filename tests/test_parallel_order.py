"""Tests split over processes run in each process in the order one process runs them
(tests/parallel_order.py): one file's tests of one kind per unit, units in collection order."""

from __future__ import annotations

from collections import OrderedDict
from types import SimpleNamespace

from xdist.remote import Producer

from tests.parallel_order import DjangoOrderScheduling

# As pytest-django sorts them: rolled-back tests (a, b), transactional (a, c), no database (b).
COLLECTION = [
    "tests/test_a.py::test_rolled_back_1",
    "tests/test_a.py::test_rolled_back_2",
    "tests/test_b.py::test_rolled_back",
    "tests/test_c.py::test_rolled_back_1",
    "tests/test_c.py::test_rolled_back_2",
    "tests/test_c.py::test_rolled_back_3",
    "tests/test_a.py::test_transactional",
    "tests/test_c.py::test_transactional",
    "tests/test_b.py::test_without_a_database",
]


class Node:
    def __init__(self, name: str):
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.sent: list[list[int]] = []

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent.append(indexes)

    def shutdown(self) -> None:
        self.shutting_down = True


def scheduler(nodes: list[Node]) -> DjangoOrderScheduling:
    """The scheduler as xdist's controller drives it, without a command line to read the
    number of nodes from (the base class's __init__ parses -n)."""
    made = DjangoOrderScheduling.__new__(DjangoOrderScheduling)
    made.numnodes = len(nodes)
    made.collection = None
    made.workqueue = OrderedDict()
    made.assigned_work = {}
    made.registered_collections = {}
    made.log = Producer("test", enabled=False)
    made.config = SimpleNamespace(option=SimpleNamespace(loadscopereorder=True))
    for node in nodes:
        made.add_node(node)
        made.add_node_collection(node, COLLECTION)
    return made


def test_a_unit_is_a_files_run_of_one_kind():
    made = scheduler([Node("gw0")])
    made.schedule()
    assert [made._split_scope(nodeid) for nodeid in COLLECTION] == [
        "tests/test_a.py#1",
        "tests/test_a.py#1",
        "tests/test_b.py#1",
        "tests/test_c.py#1",
        "tests/test_c.py#1",
        "tests/test_c.py#1",
        "tests/test_a.py#2",
        "tests/test_c.py#2",
        "tests/test_b.py#2",
    ]


def test_every_process_gets_its_units_in_collection_order():
    # xdist's loadfile would send test_c.py first (the largest file), transactional test
    # included, before test_a.py's rolled-back tests.
    gw0, gw1 = Node("gw0"), Node("gw1")
    made = scheduler([gw0, gw1])
    made.schedule()
    while made.workqueue:
        for node in (gw0, gw1):
            for scope in list(made.assigned_work[node]):
                for nodeid in list(made.assigned_work[node][scope]):
                    made.mark_test_complete(node, COLLECTION.index(nodeid))
    for node in (gw0, gw1):
        ran = [i for unit in node.sent for i in unit]
        assert ran == sorted(ran), node.gateway.id
    assert sorted(i for node in (gw0, gw1) for unit in node.sent for i in unit) == list(
        range(len(COLLECTION))
    )
