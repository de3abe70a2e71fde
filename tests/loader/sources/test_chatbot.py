"""`warehouse load chatbot`: elements land as-is with key order, idempotency, bad files refused whole."""

from __future__ import annotations

import json

import pytest

from loader import PROJECT_DIR
from loader.sources import chatbot
from loader.sources.files import InputError
from tests.conftest import run_warehouse

SAMPLES = [PROJECT_DIR / "data" / "chatbot" / name for name in ("hour=13.json", "hour=14.json")]
GOOD = json.dumps(
    {"customer": "C1", "flow": "F1", "session": "S1", "timestamp": "2019-12-16T13:59:58Z", "content": {}}
)


def _count(conn, table: str = "raw.chatbot_answers") -> int:
    return conn.execute(f"select count(*) from {table}").fetchone()[0]


def test_samples_land_as_is_with_metadata(conn):
    result = run_warehouse("load", "chatbot", *SAMPLES)
    assert result.stdout.splitlines() == [
        f"loaded {SAMPLES[0]}: 5 rows (load id 1)",
        f"loaded {SAMPLES[1]}: 5 rows (load id 2)",
    ]
    rows = conn.execute(
        "select element, content_keys, source_file, file_hour, element_index, load_id"
        " from raw.chatbot_answers order by load_id, element_index"
    ).fetchall()
    expected = [
        (element, list(element["content"]), str(path), hour, index, load_id)
        for load_id, (path, hour) in enumerate(zip(SAMPLES, (13, 14), strict=True), start=1)
        for index, element in enumerate(json.loads(path.read_text()))
    ]
    assert rows == expected


def test_key_order_and_odd_keys_are_kept(conn, tmp_path):
    # jsonb sorts keys; content_keys keeps the document order, a repeated key keeping its first place
    keys = ["zeta", "NULL", "a,b", "{x}", 'q"uote', "back\\slash", " sp ", "", "ação", "alpha"]
    content = ", ".join(json.dumps(key) + ': "v"' for key in [*keys, "zeta"])
    path = tmp_path / "answers.json"  # no hour in the name
    path.write_text(
        '[{"customer": "C1", "flow": "F1", "session": "S1", "timestamp": "2019-12-16T13:59:58Z",'
        f' "content": {{{content}}}, "extra": [1, 2]}}]'
    )
    run_warehouse("load", "chatbot", path)
    element, content_keys, file_hour = conn.execute(
        "select element, content_keys, file_hour from raw.chatbot_answers"
    ).fetchone()
    assert content_keys == keys
    assert element["extra"] == [1, 2]
    assert file_hour is None


def test_same_content_is_skipped_and_empty_hours_are_recorded(conn, tmp_path):
    copy = tmp_path / "hour=15.json"
    copy.write_bytes(SAMPLES[0].read_bytes())
    empty = tmp_path / "hour=16.json"
    empty.write_text("[ ]\n")
    run_warehouse("load", "chatbot", SAMPLES[0])
    result = run_warehouse("load", "chatbot", copy, empty)
    skipped, loaded = result.stdout.splitlines()
    assert skipped == f"skipped {copy}: this content was already loaded (load id 1)"
    assert loaded.startswith(f"loaded {empty}: 0 rows")
    assert _count(conn) == 5
    assert _count(conn, "raw.loaded_files") == 2


def _element(**changes: object) -> str:
    """GOOD with fields changed (Ellipsis removes one)."""
    element = json.loads(GOOD)
    element.update(changes)
    return json.dumps({key: value for key, value in element.items() if value is not ...})


def _array(*elements: str) -> bytes:
    return f"[{', '.join(elements)}]".encode()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("hour=13.json", b"", ": not a JSON array (line 1, column 1)"),
        ("hour=13.json", b'{"customer": "C1"}', ": not a JSON array"),
        ("hour=13.json", _array(GOOD, "{bad"), ": element [1]: not valid JSON"),
        ("hour=13.json", _array(GOOD, GOOD + ","), ": element [2]: not valid JSON"),
        ("hour=13.json", _array(GOOD + " " + GOOD), ": after element [0]: expected ',' or ']' (line 1"),
        ("hour=13.json", _array(GOOD) + b" []", ": data after the end of the array"),
        ("hour=13.json", _array(GOOD, "5"), ": element [1]: expected an object, found 5"),
        ("hour=13.json", _array(_element(customer=...)), ': element [0]: missing "customer"'),
        ("hour=13.json", _array(_element(content=...)), ': element [0]: missing "content"'),
        ("hour=13.json", _array(_element(session="  ")), ': element [0]: "session" must be a non-empty'),
        ("hour=13.json", _array(_element(flow=12)), ': element [0]: "flow" must be a non-empty string'),
        ("hour=13.json", _array(_element(content="sim")), ': element [0]: "content" must be an object'),
        ("hour=13.json", _array(_element(content=["a"])), ': element [0]: "content" must be an object'),
        (
            "hour=13.json",
            _array(GOOD, _element(timestamp="2019-12-16T13:59")),
            ': element [1]: "timestamp" "2019-12-16T13:59": expected an ISO 8601 date-time, e.g.',
        ),
        (
            "hour=13.json",
            _array(_element(timestamp="2019-02-30T00:00:00Z")),
            ': element [0]: "timestamp" "2019-02-30T00:00:00Z": day is out of range for month',
        ),
        ("hour=13.json", _array(_element(timestamp="16/12/2019 13:59")), ': element [0]: "timestamp"'),
        ("hour=13.json", _array(_element(timestamp=1576504798)), ': element [0]: "timestamp" 1576504798:'),
        (
            "hour=13.json",
            _array(_element(timestamp="2019-12-16T13:59:58+16:00")),
            ': element [0]: "timestamp" "2019-12-16T13:59:58+16:00": the UTC offset must be within +-15:59',
        ),
        ("hour=13.json", _array(_element(content={"a": "x\u0000"})), ": element [0]: contains \\u0000"),
        ("hour=13.json", _array(_element(content={"a": float("nan")})), ": element [0]: not valid JSON: NaN"),
        ("hour=13.json", _array(GOOD, _element(flow="F\ud83d")), ": element [1]: contains an unpaired"),
        ("hour=13.json", _array(GOOD, GOOD).replace(b"F1", b"F\x80", 1), ": element [0]: not valid UTF-8"),
        ("hour=25.json", _array(GOOD), ": the file name says hour 25, expected 0 to 23"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_file_and_element(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as error:
        list(chatbot.parse(path))
    assert str(error.value).startswith(f"{path}{expected}")


def test_bad_file_writes_nothing_and_good_files_still_load(conn, tmp_path):
    bad = tmp_path / "hour=12.json"
    bad.write_text(f"[{GOOD}, {GOOD}, {_element(content='x')}]")
    result = run_warehouse("load", "chatbot", bad, *SAMPLES, check=False)
    assert result.returncode == 1
    assert f'error: {bad}: element [2]: "content" must be an object of answers, found "x"' in result.stderr
    assert _count(conn) == 10
    assert _count(conn, "raw.loaded_files") == 2


def _content(number: str) -> str:
    """GOOD with one answer that is the JSON number `number`, written as given."""
    return GOOD.replace("{}", f'{{"nota": {number}}}')


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        # numbers jsonb cannot store would fail the whole COPY
        (_array(_content("1e200000")), ": element [0]: not valid JSON: number 1e200000 is out of"),
        (_array(_content("1e-20000")), ": element [0]: not valid JSON: number 1e-20000 is out of"),
        # ids are parts of the conversations' unique index
        (_array(_element(flow="F" * 201)), ': element [0]: "flow" is longer than 200 characters'),
        (_array(_element(session="S" * 201)), ': element [0]: "session" is longer than 200 characters'),
        # years outside 2000-2099
        (
            _array(_element(timestamp="9999-12-31T23:59:59")),
            ': element [0]: "timestamp" "9999-12-31T23:59:59": the year 9999 is outside 2000 to 2099',
        ),
        (
            _array(_element(timestamp="0001-01-01T00:00:00Z")),
            ': element [0]: "timestamp" "0001-01-01T00:00:00Z": the year 1 is outside',
        ),
        # bytes PostgreSQL cannot store, named by element and place
        (_array(GOOD, GOOD).replace(b", {", b", \x00{"), ": element [1]: not valid JSON: Expecting value"),
        (_array(GOOD.replace('"C1"', '"C\x001"')), ": element [0]: not valid JSON: Invalid control"),
        (_array(_element(customer="C" * 100_000)), ': element [0]: "customer" is longer than 200 characters'),
    ],
)  # fmt: skip
def test_what_jsonb_or_the_build_cannot_take_is_refused(tmp_path, content, expected):
    path = tmp_path / "hour=13.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as error:
        list(chatbot.parse(path))
    assert str(error.value).startswith(f"{path}{expected}"), str(error.value)
    assert len(str(error.value)) < 300  # a long value is not repeated whole


def test_a_number_jsonb_cannot_store_is_one_error_line_and_later_files_still_load(conn, tmp_path):
    bad = tmp_path / "hour=12.json"
    bad.write_bytes(_array(_content("1e200000")))
    result = run_warehouse("load", "chatbot", bad, *SAMPLES, check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {bad}: element [0]: not valid JSON: number 1e200000 is out of PostgreSQL's numeric range"
    ]
    assert _count(conn) == 10
    assert _count(conn, "raw.loaded_files") == 2
