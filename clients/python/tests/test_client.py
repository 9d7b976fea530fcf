"""Unit tests of the replay log and the wire format (python3 -m unittest discover -s clients/python/tests)."""

import os
import struct
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fusion_ingress import ReplayLog, wire  # noqa: E402
from fusion_ingress.client import ResultOrder  # noqa: E402


class ReplayLogTest(unittest.TestCase):
    def test_a_commit_frees_the_frames_before_it_and_keeps_the_rest_in_order(self):
        log = ReplayLog(["a", "b"])
        for i in range(5):
            log.append_frame(0, i * 100, b"\0" * 4)
            log.append_frame(1, i * 100 + 50, b"\0" * 4)
        # a at 0, 100, ..., 400; b at 50, 150, ..., 450: a commit through 250 frees what is before 250, nothing else.
        self.assertEqual(log.commit(250), 5)
        self.assertEqual(log.frames, 5)
        kept = [log.get(k) for k in log.ids()]
        self.assertEqual([(e[1], e[3]) for e in kept], [(1, 250), (0, 300), (1, 350), (0, 400), (1, 450)])

    def test_a_commit_of_everything_empties_it_closes_included(self):
        log = ReplayLog(["a"])
        log.append_frame(0, 10, b"\0" * 4)
        log.append_close(0)
        log.commit(wire.COMMITTED_ALL)
        self.assertEqual(len(log), 0)
        self.assertEqual(log.committed_frames, 1)

    def test_the_resume_point_starts_at_the_run_still_held_and_lists_what_is_held_below_it(self):
        log = ReplayLog(["a", "b"])
        for i in range(6):
            log.append_frame(0, 1_000 if i == 1 else i * 10, b"\0" * 4)  # seq 1 stamped far ahead
        log.commit(45)  # frees seqs 0, 2, 3, 4 of a; seq 1 (t=1000) and 5 (t=50) stay
        next_seq, held_below = log.resume_point(["a", "b"])
        self.assertEqual(next_seq, {"a": 5, "b": 0})
        self.assertEqual(held_below, {"a": [1]})

    def test_seqs_grow_by_one_per_stream(self):
        log = ReplayLog(["a", "b"])
        seqs = [log.get(log.append_frame(i % 2, i, b""))[2] for i in range(6)]
        self.assertEqual(seqs, [0, 0, 1, 1, 2, 2])


class WireTest(unittest.TestCase):
    def test_a_frames_message_has_the_documented_layout(self):
        m = wire.frames_message([(1, 7, 123, wire.pack_floats([1.5, -2.0]))])
        self.assertEqual(m[0], wire.FRAMES)
        self.assertEqual(struct.unpack_from("<H", m, 1)[0], 1)
        self.assertEqual(struct.unpack_from("<BqqI", m, 3), (1, 7, 123, 2))
        self.assertEqual(struct.unpack_from("<2f", m, 3 + 21), (1.5, -2.0))
        self.assertEqual(len(m), 3 + 21 + 8)

    def test_the_frame_count_is_bounded(self):
        with self.assertRaises(ValueError):
            wire.frames_message([])
        with self.assertRaises(ValueError):
            wire.frames_message([(0, i, i, b"") for i in range(wire.MAX_FRAMES_PER_MESSAGE + 1)])

    def test_what_the_node_sends_is_parsed_or_refused(self):
        self.assertEqual(wire.parse(bytes([wire.COMMITTED]) + struct.pack("<q", 42)), (wire.COMMITTED, 42))
        self.assertEqual(wire.parse(bytes([wire.RESULT]) + b'{"revision":0}'), (wire.RESULT, {"revision": 0}))
        for bad in [b"", bytes([wire.COMMITTED, 1, 2]), bytes([wire.RESULT]) + b"{", bytes([0x42]), "text"]:
            with self.assertRaises(wire.ProtocolError):
                wire.parse(bad)



def result(start, revision, status="Fused"):
    return {"windowStartUs": start, "windowEndUs": start + 100, "revision": revision, "status": status}


class ResultOrderTest(unittest.TestCase):
    def test_each_window_is_numbered_from_zero_whatever_the_incarnation_numbered_it(self):
        order = ResultOrder()
        self.assertEqual(order.take(result(0, 0))["revision"], 0)
        self.assertEqual(order.take(result(0, 4096))["revision"], 1)  # a resumed incarnation's revision of the window
        self.assertEqual(order.take(result(100, 8192))["revision"], 0)
        self.assertEqual(order.delivered, {0: 4096, 100: 8192})

    def test_a_repeat_or_a_result_ranked_below_one_delivered_is_dropped(self):
        order = ResultOrder()
        order.take(result(0, 4096))
        self.assertIsNone(order.take(result(0, 4096)))  # a repeat
        self.assertIsNone(order.take(result(0, 1)))  # an older incarnation's, late
        self.assertIsNone(order.take(result(0, 4097, "NoEvidence")))  # empty after evidence
        self.assertEqual((order.duplicates, order.outranked), (1, 2))

    def test_a_commit_forgets_the_delivered_revisions_before_it(self):
        order = ResultOrder()
        for start in (0, 100, 200):
            order.take(result(start, 0))
        order.commit(150)
        self.assertEqual(order.delivered, {200: 0})
        self.assertIsNone(order.take(result(0, 0)))  # its key is still known: a repeat

    def test_a_resume_names_at_most_what_the_node_takes(self):
        order = ResultOrder()
        for start in range(ResultOrder.MAX_DELIVERED + 10):
            order.take(result(start * 100, 0))
        self.assertEqual(len(order.delivered), ResultOrder.MAX_DELIVERED)
        self.assertNotIn(0, order.delivered)


if __name__ == "__main__":
    unittest.main()
