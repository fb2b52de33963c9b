"""The q and type expression parsers: each construct, the errors, and properties over generated input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityos.context.errors import InvalidRequest
from cityos.context.qlang import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TERMS,
    AttrPath,
    QAnd,
    QBool,
    QDate,
    QDateTime,
    QExpr,
    QList,
    QNumber,
    QOr,
    QRange,
    QString,
    QTerm,
    QTime,
    QUri,
    TAnd,
    TName,
    TOr,
    parse_q,
    parse_type_expr,
)
from cityos.core.timefmt import format_ts


def term(
    attr: str, op: str | None = None, value: Any = None, *, sub: tuple[str, ...] = (), compound: tuple[str, ...] = ()
) -> QTerm:
    return QTerm(AttrPath(attr, sub, compound), op, value)


T20 = term("temperature", ">", QNumber(20))

# --- examples --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ast"),
    [
        # exists, not exists
        ("temperature", term("temperature")),
        ("!temperature", QTerm(AttrPath("temperature"), negated_exists=True)),
        # every operator
        ("temperature==20", term("temperature", "==", QNumber(20))),
        ("temperature!=20", term("temperature", "!=", QNumber(20))),
        ("temperature>20", T20),
        ("temperature>=20", term("temperature", ">=", QNumber(20))),
        ("temperature<20", term("temperature", "<", QNumber(20))),
        ("temperature<=20", term("temperature", "<=", QNumber(20))),
        ("name~=^Ju", term("name", "~=", QString("^Ju"))),
        ('name!~="^Ju|^Al"', term("name", "!~=", QString("^Ju|^Al"))),
        ("name~=(?i)ju(n|l);a", QAnd((term("name", "~=", QString("(?i)ju(n|l)")), term("a")))),
        ("name~=^Ju|b", QOr((term("name", "~=", QString("^Ju")), term("b")))),
        # numbers
        ("t==-5", term("t", "==", QNumber(-5))),
        ("t==2.5", term("t", "==", QNumber(2.5))),
        ("t==-1.5e3", term("t", "==", QNumber(-1500.0))),
        ("t==1E-2", term("t", "==", QNumber(0.01))),
        ("t==99999999999999999999", term("t", "==", QNumber(1e20))),
        # strings
        ('name=="Ju Li"', term("name", "==", QString("Ju Li"))),
        ('name=="say \\"hi\\""', term("name", "==", QString('say "hi"'))),
        ("name=='it\\'s'", term("name", "==", QString("it's"))),
        ('name=="a;b|c)"', term("name", "==", QString("a;b|c)"))),
        ('name==""', term("name", "==", QString(""))),
        ('name=="上海"', term("name", "==", QString("上海"))),
        # booleans
        ("on==true", term("on", "==", QBool(True))),
        ("on!=false", term("on", "!=", QBool(False))),
        # date-times, dates, times
        (
            "t.observedAt>2018-12-04T12:00:00Z",
            term("t", ">", QDateTime("2018-12-04T12:00:00.000Z", "2018-12-04T12:00:00Z"), sub=("observedAt",)),
        ),
        (
            "d>=2018-12-04T12:00:00.123+08:00",
            term("d", ">=", QDateTime("2018-12-04T04:00:00.123Z", "2018-12-04T12:00:00.123+08:00")),
        ),
        ("d<2018-12-04T12:00", term("d", "<", QDateTime("2018-12-04T12:00:00.000Z", "2018-12-04T12:00"))),
        ("d==2018-12-04", term("d", "==", QDate("2018-12-04"))),
        ("d<=12:00:00", term("d", "<=", QTime("12:00:00"))),
        # URIs
        ("refGrid==urn:ngsi-ld:Grid:HP-01", term("refGrid", "==", QUri("urn:ngsi-ld:Grid:HP-01"))),
        ("ref==https://example.org/x?y=1#z", term("ref", "==", QUri("https://example.org/x?y=1#z"))),
        # value lists and ranges
        ("t==1,2,3", term("t", "==", QList((QNumber(1), QNumber(2), QNumber(3))))),
        ('t!="a","b"', term("t", "!=", QList((QString("a"), QString("b"))))),
        ('t==1,"a",true,urn:x:y', term("t", "==", QList((QNumber(1), QString("a"), QBool(True), QUri("urn:x:y"))))),
        ("t==1..5", term("t", "==", QRange(QNumber(1), QNumber(5)))),
        ("t==-1.5..2e1", term("t", "==", QRange(QNumber(-1.5), QNumber(20.0)))),
        ('t=="a".."m"', term("t", "==", QRange(QString("a"), QString("m")))),
        ("t!=2018-01-01..2018-12-31", term("t", "!=", QRange(QDate("2018-01-01"), QDate("2018-12-31")))),
        # paths
        ("temperature.observedAt", term("temperature", sub=("observedAt",))),
        ("temperature.accuracy<0.5", term("temperature", "<", QNumber(0.5), sub=("accuracy",))),
        ("a.b.c==1", term("a", "==", QNumber(1), sub=("b", "c"))),
        ('address[addressLocality]=="Berlin"', term("address", "==", QString("Berlin"), compound=("addressLocality",))),
        ("a[b][c]==1", term("a", "==", QNumber(1), compound=("b", "c"))),
        ("a[b.c]==1", term("a", "==", QNumber(1), compound=("b", "c"))),
        ("a.sub[k]==1", term("a", "==", QNumber(1), sub=("sub",), compound=("k",))),
        ("!a[k]", QTerm(AttrPath("a", (), ("k",)), negated_exists=True)),
        # names: compact and full IRIs
        ("ex:temp>1", term("ex:temp", ">", QNumber(1))),
        ("https://example.org/temp>1", term("https://example.org/temp", ">", QNumber(1))),
        ("https://example.org/ns#temp.observedAt", term("https://example.org/ns#temp", sub=("observedAt",))),
        ("https://example.com:8080/v1.2/temp.accuracy", term("https://example.com:8080/v1.2/temp", sub=("accuracy",))),
        ("https://a.org/t.https://b.org/acc", term("https://a.org/t", sub=("https://b.org/acc",))),
        ("http://a.org/t[k]", term("http://a.org/t", compound=("k",))),
        ("my-attr_2", term("my-attr_2")),
        # precedence and parentheses
        ("a;b|c", QOr((QAnd((term("a"), term("b"))), term("c")))),
        ("a|b;c", QOr((term("a"), QAnd((term("b"), term("c")))))),
        ("(a|b);c", QAnd((QOr((term("a"), term("b"))), term("c")))),
        ("a;(b|(c;d))", QAnd((term("a"), QOr((term("b"), QAnd((term("c"), term("d")))))))),
        ("a;b;c", QAnd((term("a"), term("b"), term("c")))),
        ("(a;b);c", QAnd((term("a"), term("b"), term("c")))),
        ("((((temperature>20))))", T20),
        (" temperature > 20 ", T20),
    ],
)
def test_q_examples(text: str, ast: QExpr) -> None:
    assert parse_q(text) == ast


@pytest.mark.parametrize(
    ("text", "ast"),
    [
        ("Building", TName("Building")),
        ("A,B", TOr((TName("A"), TName("B")))),
        ("A|B", TOr((TName("A"), TName("B")))),
        ("A;B", TAnd((TName("A"), TName("B")))),
        ("A;B|C", TOr((TAnd((TName("A"), TName("B"))), TName("C")))),
        ("A,B;C", TOr((TName("A"), TAnd((TName("B"), TName("C")))))),
        ("(A,B);C", TAnd((TOr((TName("A"), TName("B"))), TName("C")))),
        ("((A;B)|C),D", TOr((TAnd((TName("A"), TName("B"))), TName("C"), TName("D")))),
        (
            "ex:Building,https://example.org/ns/Building.v2",
            TOr((TName("ex:Building"), TName("https://example.org/ns/Building.v2"))),
        ),
    ],
)
def test_type_examples(text: str, ast: Any) -> None:
    assert parse_type_expr(text) == ast


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("", 0, "empty"),
        ("temperature?", 11, "expected an operator"),
        ("temperature 20", 12, "expected an operator"),
        ("temperature=20", 11, "'=='"),
        ("temperature>", 12, "expected a value"),
        ("temperature>hot", 12, "double quotes"),
        ("temperature>true", 12, "compares numbers"),
        ("temperature>1,2", 13, "value lists"),
        ("t==1..2,3", 7, "not a mix"),
        ("t==1..true", 4, "range takes"),
        ('t==1.."a"', 4, "same kind"),
        ("!t==1", 0, "does not exist"),
        ("(a==1", 5, "'(' opened at position 0"),
        ("a==1)", 4, "no matching '('"),
        ("a==1;", 5, "attribute name"),
        ("a==1||b", 5, "attribute name"),
        ('a=="open', 3, "closing quote"),
        ("a[b", 1, "']'"),
        ("a[]", 2, "key names"),
        ("a[b[c]]", 3, "'['"),
        ("a.", 2, "sub-attribute"),
        ("a==2018-13-01", 3, "not a valid date"),
        ("a==2018-12-04T25:00:00Z", 3, "not a valid date-time"),
        ("a==25:00:00", 3, "not a valid time"),
        ("a==1e999", 3, "out of range"),
        ("a~=(", 3, "not a valid regular expression"),
        ("a~=", 3, "regular expression"),
        ("a~=(?P<n>x)", 3, "PostgreSQL"),
        ("a~=x++", 5, "possessive"),
        ("a~=x{300}", 4, "repetition"),
        ("a==\x00", 3, "NUL"),
    ],
)
def test_q_errors_name_the_position(text: str, position: int, words: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        parse_q(text)
    assert err.value.extra["position"] == position
    assert f"at position {position}" in err.value.detail
    assert words in err.value.detail


@pytest.mark.parametrize(
    ("text", "position"),
    [("", 0), ("A,", 2), (",A", 0), ("A,,B", 2), ("(A", 2), ("A)", 1), ("A B", 2), ("()", 1), ('A"', 1)],
)
def test_type_errors_name_the_position(text: str, position: int) -> None:
    with pytest.raises(InvalidRequest) as err:
        parse_type_expr(text)
    assert err.value.extra["position"] == position


def test_limits() -> None:
    deep = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse_q(deep) == term("a")
    with pytest.raises(InvalidRequest, match="nest deeper"):
        parse_q("(" + deep + ")")
    with pytest.raises(InvalidRequest, match="nest deeper"):
        parse_type_expr("(" * 1000 + "A" + ")" * 1000)
    with pytest.raises(InvalidRequest, match="longer than"):
        parse_q("a==" + "1" * MAX_LENGTH)
    with pytest.raises(InvalidRequest, match="terms"):
        parse_q(";".join(["a"] * (MAX_TERMS + 1)))
    assert isinstance(parse_q(";".join(["a"] * MAX_TERMS)), QAnd)


# --- properties ------------------------------------------------------------------------------------


def _flat(cls: type, items: list[Any]) -> Any:
    out: list[Any] = []
    for item in items:
        out.extend(item.items if isinstance(item, cls) else [item])
    return cls(tuple(out))


NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,7}", fullmatch=True)
ATTR = st.one_of(NAME, NAME.map(lambda n: "ex:" + n), NAME.map(lambda n: "https://example.org/ns/" + n))
SUB = st.one_of(
    NAME, st.sampled_from(["observedAt", "unitCode", "datasetId"]), NAME.map(lambda n: "https://example.org/ns/" + n)
)


@st.composite
def paths(draw: st.DrawFn) -> tuple[str, AttrPath]:
    attr, subs, keys = draw(ATTR), draw(st.lists(SUB, max_size=2)), draw(st.lists(NAME, max_size=2))
    dotted = draw(st.booleans())
    text = attr + "".join("." + s for s in subs)
    text += f"[{'.'.join(keys)}]" if dotted and keys else "".join(f"[{k}]" for k in keys)
    return text, AttrPath(attr, tuple(subs), tuple(keys))


def _quote(s: str, q: str) -> str:
    return q + s.replace("\\", "\\\\").replace(q, "\\" + q) + q


SAFE_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
ZONES = st.none() | st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5, minutes=30))])

NUMBERS = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(lambda n: (str(n), QNumber(n))),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: (repr(f), QNumber(f))),
)
STRINGS = st.builds(lambda s, q: (_quote(s, q), QString(s)), SAFE_TEXT, st.sampled_from(['"', "'"]))
DATES = st.dates(date(1000, 1, 1)).map(lambda d: (d.isoformat(), QDate(d.isoformat())))
DATETIMES = st.builds(
    lambda dt, z: (
        (dt.isoformat().replace("+00:00", "Z") if z else dt.isoformat()),
        QDateTime(format_ts(dt), dt.isoformat().replace("+00:00", "Z") if z else dt.isoformat()),
    ),
    st.datetimes(datetime(1900, 1, 2), datetime(9998, 12, 30), timezones=ZONES),
    st.booleans(),
)
TIMES = st.times().map(lambda t: (t.isoformat(), QTime(t.isoformat())))
COMPARABLE = st.one_of(NUMBERS, STRINGS, DATES, DATETIMES, TIMES)
SCALAR = st.one_of(
    COMPARABLE,
    st.booleans().map(lambda b: (str(b).lower(), QBool(b))),
    NAME.map(lambda n: (f"urn:ngsi-ld:Thing:{n}", QUri(f"urn:ngsi-ld:Thing:{n}"))),
)
EQUALITY_VALUE = st.one_of(
    SCALAR,
    st.lists(SCALAR, min_size=2, max_size=4).map(
        lambda xs: (",".join(t for t, _ in xs), QList(tuple(v for _, v in xs)))
    ),
    st.one_of(*(st.tuples(s, s) for s in (NUMBERS, STRINGS, DATES, DATETIMES, TIMES))).map(
        lambda p: (f"{p[0][0]}..{p[1][0]}", QRange(p[0][1], p[1][1]))
    ),
)
PATTERNS = st.sampled_from(["^a", "b$", "(?i)ju", "[0-9]+", "(a|b)c", r"\d{2}", "x;y", "a|b", 'say "hi"'])


@st.composite
def terms(draw: st.DrawFn) -> tuple[str, QExpr]:
    ptext, path = draw(paths())
    form = draw(st.sampled_from(["exists", "not", "eq", "order", "regex"]))
    if form == "exists":
        return ptext, QTerm(path)
    if form == "not":
        return "!" + ptext, QTerm(path, negated_exists=True)
    if form == "eq":
        op = draw(st.sampled_from(["==", "!="]))
        vtext, value = draw(EQUALITY_VALUE)
    elif form == "order":
        op = draw(st.sampled_from([">", ">=", "<", "<="]))
        vtext, value = draw(COMPARABLE)
    else:
        op, pattern = draw(st.sampled_from(["~=", "!~="])), draw(PATTERNS)
        vtext, value = _quote(pattern, '"'), QString(pattern)
    return ptext + op + vtext, QTerm(path, op, value)


def _combine(children: st.SearchStrategy[tuple[str, Any]]) -> st.SearchStrategy[tuple[str, Any]]:
    def conj(xs: list[tuple[str, Any]]) -> tuple[str, Any]:
        # An OR inside an AND needs parentheses: ';' binds tighter than '|'.
        texts = [f"({t})" if isinstance(a, QOr) else t for t, a in xs]
        return ";".join(texts), _flat(QAnd, [a for _, a in xs])

    def disj(xs: list[tuple[str, Any]]) -> tuple[str, Any]:
        return "|".join(t for t, _ in xs), _flat(QOr, [a for _, a in xs])

    many = st.lists(children, min_size=2, max_size=3)
    return st.one_of(many.map(conj), many.map(disj), many.map(disj).map(lambda x: (f"({x[0]})", x[1])))


Q_EXPRESSIONS = st.recursive(terms(), _combine, max_leaves=8)


@given(Q_EXPRESSIONS)
def test_generated_q_parses_to_its_ast(case: tuple[str, QExpr]) -> None:
    text, ast = case
    assert parse_q(text) == ast


TYPE_NAMES = st.one_of(NAME, NAME.map(lambda n: "ex:" + n), NAME.map(lambda n: "https://example.org/ns/v1.0/" + n))


def _type_combine(children: st.SearchStrategy[tuple[str, Any]]) -> st.SearchStrategy[tuple[str, Any]]:
    def conj(xs: list[tuple[str, Any]]) -> tuple[str, Any]:
        texts = [f"({t})" if isinstance(a, TOr) else t for t, a in xs]
        return ";".join(texts), _flat(TAnd, [a for _, a in xs])

    def disj(sep: str) -> Any:
        return lambda xs: (sep.join(t for t, _ in xs), _flat(TOr, [a for _, a in xs]))

    many = st.lists(children, min_size=2, max_size=3)
    return st.one_of(many.map(conj), many.map(disj(",")), many.map(disj("|")))


@given(st.recursive(TYPE_NAMES.map(lambda n: (n, TName(n))), _type_combine, max_leaves=8))
def test_generated_type_expressions_parse_to_their_ast(case: tuple[str, Any]) -> None:
    text, ast = case
    assert parse_type_expr(text) == ast


Q_ALPHABET = st.sampled_from([*"aZ09_-:/#.[]()!=<>~;|,\"'\\ Tze+", "..", "==", "~=", "urn:", "\x00", "上"])
NOISY = st.one_of(st.text(), st.lists(Q_ALPHABET, max_size=40).map("".join))


def _parses_or_says_where(parse: Any, text: str) -> None:
    try:
        parse(text)
    except InvalidRequest as exc:
        position = exc.extra.get("position")
        assert isinstance(position, int)
        assert 0 <= position <= len(text)
        assert f"at position {position}" in exc.detail


@given(NOISY)
def test_any_text_parses_or_raises_invalid_request(text: str) -> None:
    _parses_or_says_where(parse_q, text)
    _parses_or_says_where(parse_type_expr, text)


@given(Q_EXPRESSIONS, st.integers(0, 200), st.sampled_from([*"()[];|,.!=\"'\\ ", "", "..", "~="]))
def test_damaged_q_parses_or_raises_invalid_request(case: tuple[str, QExpr], at: int, insert: str) -> None:
    text = case[0]
    at = min(at, len(text))
    _parses_or_says_where(parse_q, text[:at] + insert + text[at + 1 :])
