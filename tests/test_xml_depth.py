"""The XML depth bound, enforced inside xmltodict's single pass."""

from __future__ import annotations

import pytest

from webhook_kit.xmljson import XmlError, XmlOptions, _DepthLimitedExpat, xml_to_data


@pytest.mark.parametrize("depth,ok", [(1, True), (100, True), (101, False), (20000, False)])
def test_depth_limit_at_100(depth, ok):
    doc = "<a>" * depth + "</a>" * depth
    if ok:
        assert xml_to_data(doc) is not None
    else:
        with pytest.raises(XmlError, match="deeper than 100") as info:
            xml_to_data(doc)
        assert info.value.line == 1 and info.value.column == 301


def test_limit_is_an_option():
    with pytest.raises(XmlError):
        xml_to_data("<a><b><c/></b></a>", XmlOptions(max_depth=2))
    assert xml_to_data("<a><b/></a>", XmlOptions(max_depth=2)) == {"a": {"b": None}}


def test_handlers_without_xmltodict_path_are_counted_by_the_shim():
    """If xmltodict's handler ever stops keeping ``path``, the shim counts depth itself."""
    parser = _DepthLimitedExpat(2).ParserCreate()
    seen = []
    parser.StartElementHandler = lambda name, attrs: seen.append(("start", name))
    parser.EndElementHandler = lambda name: seen.append(("end", name))
    parser.Parse(b"<a><b/><b/></a>", True)
    assert seen == [("start", "a"), ("start", "b"), ("end", "b"), ("start", "b"), ("end", "b"),
                    ("end", "a")]
    deep = _DepthLimitedExpat(2).ParserCreate()
    deep.StartElementHandler = lambda name, attrs: None
    deep.EndElementHandler = lambda name: None
    with pytest.raises(XmlError, match="deeper than 2"):
        deep.Parse(b"<a><b><c/></b></a>", True)
