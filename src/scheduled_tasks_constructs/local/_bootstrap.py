"""The Lambda Python runtime, as one local execution environment sees it.

Run by :mod:`scheduled_tasks_constructs.local.lambda_local` as
``python -I -S -B _bootstrap.py RESPONSE_FD CONFIG_JSON`` in a process of its own
(``-B``: no ``__pycache__`` is written into the assembly, whose folders are deployed;
Lambda's file system is read-only too):
no site-packages, no user site, no ``PYTHONPATH``, and the environment the
function's template gives it. This file imports the standard library only.

Its import path is the function's code folder (``/var/task``), then its
layers' folders (``/opt/python`` and ``/opt/python/lib/python3.X/site-packages``;
a later layer's modules win, as a later layer's files overwrite an earlier
one's in ``/opt``), then the runtime's own packages (boto3, botocore and their
dependencies), then the standard library. The handler is imported once (the
cold start); init errors are reported with the error types Lambda's runtime
uses (``Runtime.ImportModuleError``, ``Runtime.HandlerNotFound`` ...).

Requests arrive on stdin, one JSON line each:
``{"requestId", "event", "deadlineMs", "invokedFunctionArn"}``. Each answer
goes to ``RESPONSE_FD`` as one JSON line: ``{"ok": true, "result": ...}`` or
``{"ok": false, "errorType", "errorMessage", "stackTrace"}``. What the handler
prints and logs goes to stdout and stderr (the function's log), with the
``START``/``END``/``REPORT`` lines and log format of Lambda.
"""

import decimal
import importlib
import json
import logging
import os
import sys
import time
import traceback


class LambdaContext:
    """The context object Lambda passes to a handler."""

    def __init__(self, config, request_id, deadline_ms, invoked_arn):
        self.function_name = config["functionName"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = invoked_arn
        self.memory_limit_in_mb = str(config["memoryMb"])
        self.aws_request_id = request_id
        self.log_group_name = config["logGroupName"]
        self.log_stream_name = config["logStreamName"]
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record):
        record.aws_request_id = _RequestIdFilter.request_id
        return True


def _setup_logging():
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.formatter.converter = time.gmtime
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def _number(value):
    """Lambda's runtime writes a Decimal (what boto3 reads from DynamoDB) as a JSON number."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError("Object of type {} is not JSON serializable".format(type(value).__name__))


def _error(error_type, message, trace=None):
    return {"ok": False, "errorType": error_type, "errorMessage": message, "stackTrace": trace or []}


def _from_exception(exc):
    trace = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
    return _error(type(exc).__name__, str(exc), trace)


def _load_handler(handler):
    """Lambda's rules for the handler string, with its error types."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        return None, _error("Runtime.MalformedHandlerName", "Bad handler '{}': {}".format(handler, exc))
    module_name = module_name.replace("/", ".")
    if module_name.split(".")[0] in sys.builtin_module_names:
        return None, _error(
            "Runtime.BuiltInModuleConflict", "Cannot use built-in module {} as a handler module".format(module_name)
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return None, _error("Runtime.ImportModuleError", "Unable to import module '{}': {}".format(module_name, exc))
    except SyntaxError as exc:
        return None, _error(
            "Runtime.UserCodeSyntaxError", "Syntax error in module '{}': {}".format(module_name, exc)
        )
    except Exception as exc:  # noqa: BLE001 - any other init error, as Lambda reports it
        return None, _from_exception(exc)
    function = getattr(module, function_name, None)
    if function is None:
        return None, _error(
            "Runtime.HandlerNotFound", "Handler '{}' missing on module '{}'".format(function_name, module_name)
        )
    return function, None


def main():
    response = os.fdopen(int(sys.argv[1]), "w", encoding="utf-8")
    config = json.loads(sys.argv[2])
    sys.path[:0] = config["path"]
    _setup_logging()
    started = time.time()
    handler, init_error = _load_handler(config["handler"])
    init_ms = (time.time() - started) * 1000
    if init_error is not None:
        print("INIT_REPORT Init Duration: {:.2f} ms\tPhase: init\tStatus: error\tError Type: {}".format(
            init_ms, init_error["errorType"]), flush=True)
    response.write(json.dumps({"ready": True, "initMs": init_ms}) + "\n")
    response.flush()
    for line in sys.stdin:
        request = json.loads(line)
        request_id = request["requestId"]
        _RequestIdFilter.request_id = request_id
        print("START RequestId: {} Version: $LATEST".format(request_id), flush=True)
        begun = time.time()
        if init_error is not None:
            answer = dict(init_error, initError=True)
        else:
            context = LambdaContext(config, request_id, request["deadlineMs"], request["invokedFunctionArn"])
            try:
                result = handler(request["event"], context)
                try:
                    answer = {"ok": True, "result": json.loads(json.dumps(result, default=_number))}
                except (TypeError, ValueError) as exc:
                    answer = _error("Runtime.MarshalError", "Unable to marshal response: {}".format(exc))
            except Exception as exc:  # noqa: BLE001 - a failed invocation
                answer = _from_exception(exc)
        if not answer["ok"]:
            print(json.dumps({k: answer[k] for k in ("errorMessage", "errorType", "stackTrace")}), flush=True)
        duration = (time.time() - begun) * 1000
        print("END RequestId: {}".format(request_id), flush=True)
        print(
            "REPORT RequestId: {}\tDuration: {:.2f} ms\tMemory Size: {} MB".format(
                request_id, duration, config["memoryMb"]
            ),
            flush=True,
        )
        sys.stdout.flush()
        sys.stderr.flush()
        response.write(json.dumps(answer) + "\n")
        response.flush()
        if init_error is not None:
            return 1  # Lambda resets an environment whose init failed
    return 0


if __name__ == "__main__":
    sys.exit(main())
