"""One trial, start to end, inside its own process: the start event, then the training protocol
(dlbench.worker.training) or the inference protocol (dlbench.worker.inference), and always exactly one final event
whatever happens (dlbench.worker.protocol).
"""
import os
import sys
import traceback

from dlbench import workloads
from dlbench.frameworks.adapter import SettingUnsupported
from dlbench.worker import inference, training
from dlbench.worker.memory import peak_host_bytes
from dlbench.worker.process import classify, one_line
from dlbench.worker.protocol import MEMORY, START
from dlbench.worker.settings import TrialSettings


def run_trial(trial, settings, events, memory):
    events.emit(START, pid=os.getpid(), key=trial["key"], python=sys.version.split()[0])
    # How busy the machine was as the trial began: other work on the same cores distorts every timing.
    load_average = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    if workloads.is_inference(trial["workload"]):  # forward passes only: dlbench.worker.inference's protocol
        return inference.run_trial(trial, settings, events, load_average)
    if (trial.get("model") or {}).get("form") == "script":  # a user's unchanged Keras script: its own fit calls
        from dlbench.worker import script
        return script.run_trial(trial, settings, events, memory, load_average)
    return training.run_trial(trial, settings, events, memory, load_average)


def main(events, trial):
    memory = None
    try:
        settings = TrialSettings.from_dict(trial["settings"])  # the one place the worker reads the trial's dict
        if trial.get("model"):  # a user's model file, carried by the trial: a workload of this process
            workloads.use_model_file(trial["model"])
        # Inference trials report their own memory (dlbench.worker.inference): no sampler thread for them.
        if not workloads.is_inference(trial["workload"]):
            memory = training.Memory(settings)
        run_trial(trial, settings, events, memory)
    except KeyboardInterrupt:
        events.end("interrupted", error="interrupted by a signal")
    except SettingUnsupported as exc:  # never run in another precision or compile mode than the one asked
        events.end("skipped", error=str(exc))
    except BaseException as exc:  # a worker must always end with its final event
        try:
            if memory is not None:
                memory.emit(events)
            else:  # an inference trial that failed before reporting its own memory: its host peak still counts
                events.emit(MEMORY, peak_host_bytes=peak_host_bytes(), peak_device_bytes=None, device_method=None,
                            allocator_peak_bytes=None)
        except Exception:
            pass  # the failure itself is what must be reported
        # A user's file's error brings its own detail: its traceback, or None for the worker's output tail (the
        # parent's Recorder stores that in its place: what a script printed before it ended without training).
        detail = exc.detail if getattr(exc, "says_it_all", False) else traceback.format_exc()
        events.end(classify(exc), error=one_line(exc), detail=detail[-4000:] if detail else None)
