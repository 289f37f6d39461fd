"""Scheduler end to end: dynamic batching forms real batches,
batching multiplies throughput, a flood beyond the queue bound gets fast
503s while admitted requests succeed, and no request is lost or answered
twice. Starts the real serval with identity models whose `delay_us` makes
each execution take a known time."""

import http.client
import json
import struct
import sys
import threading
import time

import serval_harness as h

DELAY_US = 5000  # each execution sleeps 5 ms, whatever its batch size


def identity_config(name, dynamic, max_batch=8, queue_policy="", instances=1):
    text = f"""
name: "{name}"
backend: "identity"
max_batch_size: {max_batch}
input [ {{ name: "IN" data_type: TYPE_FP32 dims: [ 1 ] }} ]
output [ {{ name: "OUT" data_type: TYPE_FP32 dims: [ 1 ] }} ]
instance_group [ {{ count: {instances} kind: KIND_CPU }} ]
parameters {{ key: "delay_us" value {{ string_value: "{DELAY_US}" }} }}
"""
    if dynamic:
        text += f"dynamic_batching {{ {queue_policy} }}\n"
    return text


def infer_body(value, request_id):
    return json.dumps({
        "id": request_id,
        "inputs": [{"name": "IN", "shape": [1, 1], "datatype": "FP32",
                    "data": [value]}],
    })


class Client(threading.Thread):
    """Sends `count` requests one after another on one keep-alive
    connection; records (id, status, value, retry_after, seconds)."""

    def __init__(self, port, model, index, count):
        super().__init__(daemon=True)
        self.port, self.model, self.index, self.count = port, model, index, count
        self.results = []

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        for k in range(self.count):
            rid = f"c{self.index}-{k}"
            value = float(self.index * 10000 + k)
            start = time.monotonic()
            conn.request("POST", f"/v2/models/{self.model}/infer",
                         body=infer_body(value, rid),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            body = json.loads(resp.read() or b"{}")
            elapsed = time.monotonic() - start
            got = None
            if resp.status == 200:
                assert body["id"] == rid, (body["id"], rid)
                got = body["outputs"][0]["data"][0]
                assert got == value, (got, value)
            self.results.append((rid, resp.status, got,
                                 resp.getheader("Retry-After"), elapsed))
        conn.close()


def run_clients(port, model, concurrency, per_client):
    clients = [Client(port, model, i, per_client) for i in range(concurrency)]
    start = time.monotonic()
    for c in clients:
        c.start()
    for c in clients:
        c.join(60)
        assert not c.is_alive(), "a client hung"
    elapsed = time.monotonic() - start
    results = [r for c in clients for r in c.results]
    return results, elapsed


def stats(server, model):
    status, _, body = server.request("GET", f"/v2/models/{model}/stats")
    assert status == 200, body
    return json.loads(body)["model_stats"][0]


def main():
    args = h.parse_args()
    with h.ModelRepository() as repo:
        repo.add_model("batched", identity_config("batched", dynamic=True))
        repo.add_model("unbatched", identity_config("unbatched", dynamic=False))
        # A tiny queue: one executing, four waiting; the rest must be refused.
        repo.add_model("tiny_queue", identity_config(
            "tiny_queue", dynamic=True, max_batch=1,
            queue_policy="default_queue_policy { max_queue_size: 4 }"))
        with h.Serval(args.serval, args.backends, [repo.path]) as server:
            throughput = {}

            def test_batches_form_at_concurrency_32():
                results, elapsed = run_clients(server.http_port, "batched", 32, 20)
                assert all(r[1] == 200 for r in results), \
                    [r for r in results if r[1] != 200][:3]
                throughput["batched"] = len(results) / elapsed
                s = stats(server, "batched")
                assert int(s["inference_count"]) == 640, s
                sizes = [int(b["batch_size"]) for b in s["batch_stats"]]
                assert max(sizes) > 1, sizes
                assert int(s["execution_count"]) < 640 / 2, s

            def test_batching_multiplies_throughput():
                results, elapsed = run_clients(server.http_port, "unbatched", 32, 5)
                assert all(r[1] == 200 for r in results)
                throughput["unbatched"] = len(results) / elapsed
                s = stats(server, "unbatched")
                assert all(int(b["batch_size"]) == 1 for b in s["batch_stats"]), s
                ratio = throughput["batched"] / throughput["unbatched"]
                print(f"  batched {throughput['batched']:.0f} req/s, unbatched "
                      f"{throughput['unbatched']:.0f} req/s, ratio {ratio:.1f}")
                assert ratio >= 3.0, throughput

            def test_flood_beyond_the_queue_fails_fast():
                results, _ = run_clients(server.http_port, "tiny_queue", 48, 4)
                ids = [r[0] for r in results]
                assert len(ids) == 48 * 4 and len(set(ids)) == len(ids)
                ok = [r for r in results if r[1] == 200]
                refused = [r for r in results if r[1] == 503]
                assert len(ok) + len(refused) == len(results), \
                    {r[1] for r in results}
                assert ok and refused, (len(ok), len(refused))
                assert all(r[3] is not None for r in refused), "no Retry-After"
                # A refusal never waits for the model, while an admitted
                # request waits behind up to four executions.
                def median(xs):
                    return sorted(xs)[len(xs) // 2]
                fast, slow = median([r[4] for r in refused]), median([r[4] for r in ok])
                print(f"  {len(ok)} admitted (median {slow * 1e3:.1f} ms), "
                      f"{len(refused)} refused (median {fast * 1e3:.1f} ms)")
                assert fast < slow, (fast, slow)
                s = stats(server, "tiny_queue")
                assert int(s["inference_stats"]["success"]["count"]) == len(ok), s
                assert int(s["inference_stats"]["fail"]["count"]) == len(refused), s

            return h.run_tests([test_batches_form_at_concurrency_32,
                                test_batching_multiplies_throughput,
                                test_flood_beyond_the_queue_fails_fast], server)


if __name__ == "__main__":
    sys.exit(main())
