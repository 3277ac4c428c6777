"""`helm template` and `helm lint` for the test suite, through Helm's own Go engine.

No `helm` binary is packaged for Debian, PyPI or npm; the PyPI package helm-python-sdk
bundles Helm v4's SDK as a shared library (libhelm_c, called through ctypes), so rendering
and linting here are what `helm template` and `helm lint` do. `make helm-tools` installs it,
hash-pinned, into its own virtual environment (var/helm-tools); this script runs there and
answers in JSON on stdout, so the tests need nothing from that environment but its Python:

    var/helm-tools/bin/python tools/helm_chart.py render CHART [--values-json JSON]
    var/helm-tools/bin/python tools/helm_chart.py lint CHART [--values-json JSON]

``render`` prints ``{"manifests": {template path: text}}`` or ``{"error": message}``;
``lint`` prints Helm's report ``{"messages": [{"severity", "path", "error"}], "errors": [...]}``
(severity 1 info, 2 warning, 3 error) with strict checking.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["render", "lint"])
    parser.add_argument("chart")
    parser.add_argument("--values-json", default="{}", help="values merged over the chart's values.yaml")
    parser.add_argument("--release", default="shop")
    parser.add_argument("--namespace", default="shop")
    args = parser.parse_args(argv)

    import helm_python

    helm_python.disable_logging()  # Helm's own log lines would mix with the JSON answer
    values = json.loads(args.values_json)
    if args.command == "lint":
        report = helm_python.lint(args.chart, values, strict=True, namespace=args.namespace)
        print(json.dumps(report))
        return 0
    chart = helm_python.Chart.load(args.chart)
    try:
        manifests = chart.render(values, name=args.release, namespace=args.namespace, is_install=True)
    except helm_python.HelmError as error:
        print(json.dumps({"error": str(error)}))
        return 0
    print(json.dumps({"manifests": manifests}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
