#!/usr/bin/env python3
"""Capture what real instrumentation libraries export, as test fixtures.

    python3 scripts/capture/run_capture.py [--only NAME ...] [--reinstall] [--keep-raw DIR]

For each library: a venv under /tmp/capture-venvs/<name> (never in the repo) installed from
requirements/<name>.txt constrained by requirements/<name>.lock.txt, a fake OpenAI server and an
OTLP/HTTP receiver on free 127.0.0.1 ports, scenario.py run with the real instrumentation, and
the raw OTLP protobuf requests converted to Collector-file-exporter output under
tests/fixtures/captured/<name>/ together with versions.txt and expected.json.
Node.js libraries (the Vercel AI SDK) instead get `npm ci` of vercel/<name>/package.json and its
package-lock.json under /tmp/capture-node/<name> and run vercel/scenario.mjs there.
Stdlib only; needs network access to PyPI (and npm for the Node libraries) for the installs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT_ROOT = os.path.join(REPO, "tests", "fixtures", "captured")
VENV_ROOT = os.environ.get("CAPTURE_VENV_ROOT", "/tmp/capture-venvs")
NODE_ROOT = os.environ.get("CAPTURE_NODE_ROOT", "/tmp/capture-node")
REQ_DIR = os.path.join(HERE, "requirements")
NODE_DIR = os.path.join(HERE, "vercel")
TOOLS = "_tools"

sys.path.insert(0, HERE)
import scenario_spec as spec  # noqa: E402

# name -> (scenario setup, extra environment, description)
LIBRARIES = {
    "otel-openai-v2-2.4b0": (
        "otel-openai-v2-latest",
        {
            "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_AND_EVENT",
        },
        "opentelemetry-instrumentation-openai-v2 2.4b0 + opentelemetry-util-genai 1.1b0, "
        "latest experimental GenAI semconv, content on spans and in events",
    ),
    "otel-openai-v2-2.3b0": (
        "otel-openai-v2-legacy",
        {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"},
        "opentelemetry-instrumentation-openai-v2 2.3b0, default (semconv 1.30) mode, content "
        "capture on (content goes to log records)",
    ),
    "openlit-1.45.0": (
        "openlit",
        {"OPENLIT_DISABLE_METRICS": "true"},
        "openlit 1.45.0, openlit.init(capture_message_content=True, disable_metrics=True, pricing_json=<local file>)",
    ),
    "traceloop-sdk-0.62.4": (
        "traceloop",
        {"TRACELOOP_TELEMETRY": "false", "TRACELOOP_METRICS_ENABLED": "false", "TRACELOOP_TRACE_CONTENT": "true"},
        "traceloop-sdk 0.62.4, Traceloop.init(instruments={OPENAI}, disable_batch=True), "
        "association properties user_id/session_id",
    ),
    "traceloop-sdk-0.47.5": (
        "traceloop",
        {"TRACELOOP_TELEMETRY": "false", "TRACELOOP_METRICS_ENABLED": "false", "TRACELOOP_TRACE_CONTENT": "true"},
        "traceloop-sdk 0.47.5, Traceloop.init(instruments={OPENAI}, disable_batch=True), "
        "association properties user_id/session_id",
    ),
    "openinference-openai-0.1.66": (
        "openinference",
        {},
        "openinference-instrumentation-openai 0.1.66 with the plain OTel SDK, using_session/using_user",
    ),
}

# Node.js libraries: name -> description (scenario: vercel/scenario.mjs; versions: vercel/<name>/package*.json)
NODE_LIBRARIES = {
    "vercel-ai-5.0.277": "Vercel AI SDK ai 5.0.277 + @ai-sdk/openai 2.0.131 (openai.chat / openai.textEmbeddingModel) "
    "on @opentelemetry/sdk-node 0.223.0, experimental_telemetry {isEnabled, functionId, metadata {userId, sessionId}}",
    "vercel-ai-6.0.325": "Vercel AI SDK ai 6.0.325 + @ai-sdk/openai 3.0.141, otherwise as vercel-ai-5.0.277",
}
ALL_LIBRARIES = [*LIBRARIES, *NODE_LIBRARIES]
# what the AI SDK throws for the 429 (scenario_spec names the Python openai client's exception)
NODE_ERROR_NAMES = {"exception": "APICallError (npm ai)", "type_name": "AI_APICallError"}

# What each library is known to leave out or do differently (filled in from the captures; the
# ground truth in expected.json stays the true structure regardless).
NOTES_FILE = os.path.join(HERE, "library_notes.json")

PRICING = {
    "chat": {
        "gpt-4o-mini": {"promptPrice": 0.00015, "completionPrice": 0.0006},
        "gpt-4o-mini-2024-07-18": {"promptPrice": 0.00015, "completionPrice": 0.0006},
    },
    "embeddings": {"text-embedding-3-small": 0.00002},
    "images": {},
    "audio": {},
}


def log(msg):
    print(f"[capture] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:  # noqa: BLE001
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def venv_python(name: str) -> str:
    return os.path.join(VENV_ROOT, name, "bin", "python")


def ensure_venv(name: str, reinstall: bool):
    req = os.path.join(REQ_DIR, f"{name}.txt")
    lock = os.path.join(REQ_DIR, f"{name}.lock.txt")
    vdir = os.path.join(VENV_ROOT, name)
    stamp = os.path.join(vdir, ".capture-stamp")
    h = hashlib.sha256()
    for p in (req, lock):
        if os.path.exists(p):
            h.update(open(p, "rb").read())
    digest = h.hexdigest()
    if not reinstall and os.path.exists(stamp) and open(stamp).read() == digest:
        return
    if reinstall and os.path.exists(vdir):
        shutil.rmtree(vdir)
    log(f"installing venv {vdir}")
    subprocess.run([sys.executable, "-m", "venv", vdir], check=True)
    pip = [os.path.join(vdir, "bin", "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    cmd = pip + ["-r", req]
    if os.path.exists(lock):
        cmd += ["-c", lock]
    subprocess.run(cmd, check=True)
    with open(stamp, "w") as f:
        f.write(digest)


def ensure_node(name: str, reinstall: bool) -> str:
    """`npm ci` of the pinned package.json + package-lock.json into NODE_ROOT/<name>; its directory."""
    src = os.path.join(NODE_DIR, name)
    ndir = os.path.join(NODE_ROOT, name)
    stamp = os.path.join(ndir, ".capture-stamp")
    h = hashlib.sha256()
    for f in ("package.json", "package-lock.json"):
        h.update(open(os.path.join(src, f), "rb").read())
    digest = h.hexdigest()
    if reinstall or not (os.path.exists(stamp) and open(stamp).read() == digest):
        shutil.rmtree(ndir, ignore_errors=True)
        os.makedirs(ndir)
        for f in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(src, f), ndir)
        log(f"npm ci in {ndir}")
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=ndir, check=True)
        with open(stamp, "w") as f:
            f.write(digest)
    shutil.copy(os.path.join(NODE_DIR, "scenario.mjs"), ndir)  # node resolves `ai` next to the script
    return ndir


def npm_ls(ndir: str) -> str:
    ls = subprocess.run(["npm", "ls", "--all"], cwd=ndir, capture_output=True, text=True, check=True).stdout
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return f"# npm ls --all of {ndir} (node {node})\n" + ls


def pip_freeze(name: str) -> str:
    return subprocess.run(
        [venv_python(name), "-m", "pip", "freeze", "--disable-pip-version-check"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def start(cmd, logf):
    return subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def count_export(out_dir: str) -> dict:
    spans = 0
    names = {}
    with open(os.path.join(out_dir, "traces.otlp.jsonl")) as f:
        for line in f:
            for rs in json.loads(line).get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    for sp in ss.get("spans", []):
                        spans += 1
                        names[sp["name"]] = names.get(sp["name"], 0) + 1
    logs = 0
    lp = os.path.join(out_dir, "logs.otlp.jsonl")
    if os.path.exists(lp):
        with open(lp) as f:
            for line in f:
                for rl in json.loads(line).get("resourceLogs", []):
                    for sl in rl.get("scopeLogs", []):
                        logs += len(sl.get("logRecords", []))
    return {"spans": spans, "span_names": dict(sorted(names.items())), "log_records": logs}


def cost_total(calls) -> float:
    total = 0.0
    for c in calls:
        if c["operation"] == "embeddings":
            total += c["input_tokens"] / 1000 * PRICING["embeddings"].get(c["request_model"], 0)
        else:
            p = PRICING["chat"].get(c["request_model"])
            if p:
                total += c["input_tokens"] / 1000 * p["promptPrice"] + c["output_tokens"] / 1000 * p["completionPrice"]
    return round(total, 12)


def expected_json(name: str, env: dict, desc: str, counts: dict, info: dict, notes: list) -> dict:
    llm_calls = spec.calls_for("vercel-ai" if name in NODE_LIBRARIES else LIBRARIES[name][0])
    ok = [c for c in llm_calls if not c["error"]]
    err = [c for c in llm_calls if c["error"]]
    return {
        "library": name,
        "description": desc,
        "environment": env,
        "service_name": spec.SERVICE_NAME,
        "span_count": counts["spans"],
        "span_count_source": "counted from traces.otlp.jsonl (everything else here comes from the "
        "scenario and the fake server, not from the export)",
        "span_names_seen": counts["span_names"],
        "log_record_count": counts["log_records"],
        "llm_span_count": len(llm_calls),
        "llm_span_count_by_operation": {
            op: sum(1 for c in llm_calls if c["operation"] == op) for op in sorted({c["operation"] for c in llm_calls})
        },
        "error_span_count": len(err),
        "request_models": [c["request_model"] for c in llm_calls],
        "distinct_request_models": sorted({c["request_model"] for c in llm_calls}),
        "response_models": sorted({c["response_model"] for c in ok if c["response_model"]}),
        "input_tokens_total": sum(c["input_tokens"] for c in llm_calls),
        "output_tokens_total": sum(c["output_tokens"] for c in llm_calls),
        "tokens_note": "totals over all LLM calls as the fake server reported them; the embeddings "
        "call has input tokens only and the failed call has none",
        **(
            {
                "cost_usd_total": cost_total(llm_calls),
                "cost_note": "openlit only: from the local pricing_json (PRICING in run_capture.py), "
                "per-1K-token prices, request model",
            }
            if name.startswith("openlit")
            else {}
        ),
        "user_id": info.get("user_id"),
        "session_id": info.get("session_id"),
        "calls": llm_calls,
        "errors": [
            {"call": c["id"], "request_model": c["request_model"], **c["error"], **NODE_ERROR_NAMES}
            if name in NODE_LIBRARIES
            else {"call": c["id"], "request_model": c["request_model"], **c["error"]}
            for c in err
        ],
        "notes": notes,
    }


def capture(name: str, reinstall: bool, keep_raw: str | None):
    node = name in NODE_LIBRARIES
    if node:
        setup, extra_env, desc = "vercel-ai", {}, NODE_LIBRARIES[name]
        ndir = ensure_node(name, reinstall)
    else:
        setup, extra_env, desc = LIBRARIES[name]
        ensure_venv(name, reinstall)
    ensure_venv(TOOLS, reinstall)
    work = tempfile.mkdtemp(prefix=f"capture-{name}-")
    raw = os.path.join(work, "raw")
    os.makedirs(raw)
    pricing = os.path.join(work, "pricing.json")
    with open(pricing, "w") as f:
        json.dump(PRICING, f)
    oport, rport = free_port(), free_port()
    logf = open(os.path.join(work, "servers.log"), "w")
    fake = recv = None
    try:
        fake = start([sys.executable, os.path.join(HERE, "fake_openai_server.py"), str(oport)], logf)
        recv = start([sys.executable, os.path.join(HERE, "receiver.py"), "serve", str(rport), raw], logf)
        wait_http(f"http://127.0.0.1:{oport}/health")
        wait_http(f"http://127.0.0.1:{rport}/")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("OTEL_", "OPENAI_", "TRACELOOP_", "OPENLIT_", "OPENINFERENCE_"))
        }
        env.update(extra_env)
        env.update(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{rport}",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_SERVICE_NAME": spec.SERVICE_NAME,
                "OPENAI_API_KEY": "sk-fake-capture",
                "OPENAI_BASE_URL": f"http://127.0.0.1:{oport}/v1",
                "NO_PROXY": "127.0.0.1,localhost",
                "HOME": work,  # keeps caches (traceloop, openlit) out of the real home
            }
        )
        result = os.path.join(work, "result.json")
        log(f"{name}: running scenario ({setup})")
        urls = ["--openai-url", f"http://127.0.0.1:{oport}/v1", "--otlp-url", f"http://127.0.0.1:{rport}"]
        if node:
            spec_file = os.path.join(work, "spec.json")
            with open(spec_file, "w") as f:
                json.dump(
                    {
                        "user_id": spec.USER_ID,
                        "session_id": spec.SESSION_ID,
                        "weather_tool": spec.WEATHER_TOOL,
                        "weather_result": spec.WEATHER_RESULT,
                        "calls": spec.calls_for(setup),
                    },
                    f,
                )
            cmd = ["node", os.path.join(ndir, "scenario.mjs"), "--spec", spec_file, *urls, "--result", result]
        else:
            cmd = [venv_python(name), os.path.join(HERE, "scenario.py"), "--setup", setup, *urls]
            cmd += ["--result", result, "--pricing-json", pricing]
        subprocess.run(cmd, env=env, check=True, timeout=300, cwd=work)
        time.sleep(0.5)  # let the receiver finish writing the last request
    finally:
        stop(fake)
        stop(recv)
        logf.close()
    out = os.path.join(OUT_ROOT, name)
    os.makedirs(out, exist_ok=True)
    conv = subprocess.run(
        [venv_python(TOOLS), os.path.join(HERE, "receiver.py"), "convert", raw, out],
        check=True,
        capture_output=True,
        text=True,
    )
    log(f"{name}: converted {conv.stdout.strip()}")
    with open(os.path.join(out, "versions.txt"), "w") as f:
        if node:
            f.write(npm_ls(ndir))
        else:
            f.write(f"# pip freeze of {VENV_ROOT}/{name} (python {sys.version.split()[0]})\n" + pip_freeze(name))
    info = json.load(open(result))
    notes = {}
    if os.path.exists(NOTES_FILE):
        notes = json.load(open(NOTES_FILE))
    counts = count_export(out)
    if counts["spans"] == 0:
        raise RuntimeError(f"{name}: no spans were exported (see the scenario output above)")
    exp = expected_json(name, extra_env, desc, counts, info, notes.get(name, []))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(exp, f, indent=2)
        f.write("\n")
    if keep_raw:
        dst = os.path.join(keep_raw, name)
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(work, dst)
    shutil.rmtree(work, ignore_errors=True)
    log(f"{name}: {counts['spans']} spans, {counts['log_records']} log records -> {out}")
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", choices=sorted(ALL_LIBRARIES))
    ap.add_argument("--reinstall", action="store_true")
    ap.add_argument("--keep-raw", help="copy the raw receiver output and logs here")
    a = ap.parse_args()
    failed = []
    for name in a.only or ALL_LIBRARIES:
        try:
            capture(name, a.reinstall, a.keep_raw)
        except Exception as exc:  # noqa: BLE001
            log(f"{name}: FAILED: {exc}")
            failed.append(name)
    if failed:
        log(f"failed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
