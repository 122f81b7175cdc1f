"""How long the XML -> JSON playground takes to convert a 1 MB XML sample.

Measures the playground's own conversion function (``convert``, i.e.
``xml_to_json`` with ``XmlOptions``) and the whole widget path (setting the
XML textarea's value: the observer converts and fills the JSON textarea),
headless. The target is well under 0.5 s per conversion. Writes the section
"Playground" of docs/notebook-performance.md (other sections are kept).

    python benchmarks/bench_playground.py [--runs 7] [--size 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine_note, table, write_section  # noqa: E402

from webhook_kit.widgets.playground import XmlJsonPlayground, build_options, convert  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "notebook-performance.md"

NOTIFICATION = """      <Notification>
        <Id>04l{i:015d}</Id>
        <sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
          <sf:Id>00Q{i:015d}</sf:Id>
          <sf:Email>lead{i}@example.com</sf:Email>
          <sf:LastName>Example &amp; Sons</sf:LastName>
          <sf:Company xsi:nil="true"/>
        </sObject>
      </Notification>
"""
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <soapenv:Body>
    <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
      <OrganizationId>00Dxx0000000000EAA</OrganizationId>
"""
TAIL = """    </notifications>
  </soapenv:Body>
</soapenv:Envelope>
"""
NAMESPACES = ("http://schemas.xmlsoap.org/soap/envelope/=soapenv\n"
              "http://soap.sforce.com/2005/09/outbound=\n"
              "urn:sobject.enterprise.soap.sforce.com=sf\n"
              "http://www.w3.org/2001/XMLSchema-instance=xsi")


def salesforce_xml(size: int) -> str:
    """A Salesforce outbound message with as many Notifications as fit in ``size`` bytes."""
    parts, total, i = [HEAD], len(HEAD) + len(TAIL), 0
    while total < size:
        part = NOTIFICATION.format(i=i)
        parts.append(part)
        total += len(part)
        i += 1
    parts.append(TAIL)
    return "".join(parts)


def timed(fn, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds per run (CPU time shows the cost without the other tenants)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def row(label: str, wall: list[float], cpu: list[float]) -> list[str]:
    ms = lambda seconds: f"{seconds * 1000:.0f} ms"  # noqa: E731
    return [label, ms(statistics.median(wall)), ms(max(wall)), ms(statistics.median(cpu))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--size", type=int, default=1_000_000)
    args = ap.parse_args()

    xml = salesforce_xml(args.size)
    cases = [
        ("default options", build_options()),
        ("force_list Notification + namespace map", build_options(force_list="Notification",
                                                                  namespace_map=NAMESPACES)),
    ]
    rows = []
    for label, options in cases:
        text, error = convert(xml, options)
        assert error is None and text, error
        rows.append(row(f"`convert` ({label})", *timed(lambda: convert(xml, options), args.runs)))

    # the widget path: assigning the textarea's value runs the observer that converts
    playground = XmlJsonPlayground(force_list="Notification", namespace_map=NAMESPACES)
    variants = [xml, xml.replace("Example &amp; Sons", "Example &amp; Daughters", 1)]
    counter = iter(range(10**9))

    def type_it():
        playground.xml = variants[next(counter) % 2]  # a changed value, as typing gives
        assert playground.error is None

    rows.append(row("widget: set the XML textarea (observer converts, JSON textarea filled)",
                    *timed(type_it, args.runs)))

    markdown = "\n".join([
        "## Playground",
        "",
        f"Converting a {len(xml.encode()) / 1e6:.2f} MB Salesforce outbound message "
        f"({xml.count('<Notification>')} Notifications) to indented JSON, {args.runs} runs each "
        "(`python benchmarks/bench_playground.py`). Target: well under 0.5 s, so the JSON follows "
        "typing. The widget row is the kernel side only; the browser then renders the text. "
        "Wall-clock times grow with the machine's load (2 shared cores); the CPU column is the "
        "work itself.",
        "",
        table(["what", "median wall", "max wall", "median CPU"], rows),
        "",
        machine_note(),
    ])
    if not DOC.exists():
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text("# Notebook performance\n\nHow fast the notebook side answers, measured "
                       "by the scripts in benchmarks/; each owns one section.\n")
    write_section("playground", markdown, DOC)
    print(markdown)


if __name__ == "__main__":
    main()
