"""Generated hostile input for the three loaders (invoices, chatbot, Kafka payload validation): each
input is either refused with one clear error naming the file and line or element (nothing written)
or accepted, and then the build passes on everything accepted. One database for all examples and one
`warehouse build` at the end: a build per example would take hours."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loader import db
from loader.sources import chatbot, invoices
from loader.sources.files import InputError
from loader.sources.payloads import payload_error
from tests.conftest import run_warehouse
from tests.notifications_helpers import land_events

EXAMPLES = settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# Text a careless or hostile producer sends: other scripts' digits and spaces, quotes, separators,
# control characters, names that look generated (~1), SQL and Jinja.
HOSTILE_WORDS = st.sampled_from(
    ["", " ", "\u00a0", "\u0661\u0660", "\uff11", '"', '"C2"x', ",", "\r", "\n", "\x00", "\t", "~1",
     "_d41d8cd9", 'x"); drop table raw.loaded_files; --', "{{ 1 + 1 }}", "customer", "answer_customer",
     "k" * 70, "C" * 201, "sim", "NÃO", "1e200000", "9999-12-31", "2020-02-30"]
)  # fmt: skip
# What Python's str methods and \\d take for spaces and digits and PostgreSQL does not, and suffixes
# PostgreSQL reads that the documentation does not allow.
SPOILERS = st.sampled_from(
    ["\u00a0", "\u2007", "\u3000", "\t", " ", "\u0661", "\u0966", "\uff11", "e3", " BC", " Etc/GMT-3", "0"]
)
TEXT = st.one_of(HOSTILE_WORDS, st.text(max_size=12), st.text(alphabet="AB1 ~_", min_size=1, max_size=8))
OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=-3)), timezone(timedelta(hours=5, minutes=30))])


def _mostly(good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    """`good` seven times in eight: one bad field refuses a file, and the build needs files."""
    # an inner value: hypothesis draws the ends of a range more often
    return st.integers(0, 7).flatmap(lambda draw: bad if draw == 3 else good)


def _spoiled(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A good value, one time in four with a spoiler before or after it."""
    spoiled = st.builds(
        lambda value, word, front: word + value if front else value + word, values, SPOILERS, st.booleans()
    )
    return st.integers(0, 7).flatmap(lambda draw: spoiled if draw in (2, 5) else values)


DATETIMES = st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2104, 12, 31), timezones=OFFSETS)


def _iso(moment: datetime, form: int) -> str:
    text = moment.isoformat()
    return [text, text.replace("+00:00", "Z"), text.replace("T", " "), text[:19], text[:-3] + text[-2:]][form]


TIMESTAMPS = _mostly(
    _spoiled(st.builds(_iso, DATETIMES, st.integers(0, 4))),
    st.one_of(
        st.sampled_from(["2020-02-03T14:00:00+00 BC", "2020-02-03T14:00:00 Etc/GMT-3", "yesterday",
                         "2020-02-03T14:00:00+16:00", " 020-02-03T14:00:01Z", "2020-02-03T14:00: 1Z"]),
        TEXT,
    ),
)  # fmt: skip


def _file_of(tmp_path: Path, name: str, content: bytes) -> Path:
    folder = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    path = folder / name
    path.write_bytes(content)
    return path


def _counts(conn: psycopg.Connection, table: str) -> tuple[int, int]:
    return (
        conn.execute(f"select count(*) from raw.{table}").fetchone()[0],
        conn.execute("select count(*) from raw.loaded_files").fetchone()[0],
    )


def _whole_and_split(items: list) -> list[list]:
    """The items as one file, and one file each: one bad item refuses a whole file."""
    return [items, *([item] for item in items)] if len(items) > 1 else [items]


def _loads_or_refuses(conn: psycopg.Connection, load, path: Path, table: str, where: str) -> bool:
    """Load `path`; a refusal must be one line naming the file and `where`, and write nothing."""
    before = _counts(conn, table)
    try:
        load(conn, path)
    except InputError as error:
        message = str(error)
        assert message.startswith(f"{path}{where}") or message.startswith(f"{path}: "), message
        assert "\n" not in message and len(message) < 400, message
        assert _counts(conn, table) == before
        return False
    return True


INVOICE_FIELDS = {
    "customer": _mostly(st.sampled_from(["C1", " C2 ", "Cliente Três", "C" * 200, '"; --']), TEXT),
    "account": _mostly(st.sampled_from(["A1", "A2"]), TEXT),
    "month": st.one_of(_spoiled(st.builds(lambda moment: moment.date().isoformat(), DATETIMES)), TEXT),
    "invoice": st.one_of(
        _spoiled(st.decimals(min_value=-(10**6), max_value=10**16, places=2, allow_nan=False).map(str)), TEXT
    ),
}
INVOICE_ROWS = st.lists(st.fixed_dictionaries(INVOICE_FIELDS), min_size=1, max_size=3)


def _invoice_file(rows: list[dict[str, str]], header: list[str], quoted: bool, crlf: bool) -> bytes:
    out = io.StringIO()
    end = "\r\n" if crlf else "\n"
    if quoted:
        writer = csv.writer(out, lineterminator=end)
        writer.writerow(header)
        writer.writerows([row.get(name, "") for name in header] for row in rows)
    else:  # as a careless producer writes it: no quoting at all
        out.write(",".join(header) + end)
        out.writelines(",".join(row.get(name, "") for name in header) + end for row in rows)
    return out.getvalue().encode("utf-8", errors="surrogatepass")


HEADERS = _mostly(
    st.permutations(list(invoices.COLUMNS)),
    st.sampled_from(
        [["customer", "account", "month"], ["customer", "account", "month", "invoice", "invoice"]]
    ),
)

CHATBOT_VALUES = st.one_of(
    TEXT, st.none(), st.integers(), st.booleans(), st.sampled_from(["#1e200000#", "#-0#"])
)
CHATBOT_ELEMENTS = st.lists(
    st.fixed_dictionaries(
        {
            "customer": _mostly(st.just("C1"), TEXT),
            "flow": _mostly(st.sampled_from(["F1", "F~1", "F" * 70, 'x"; drop view "F1"; --']), TEXT),
            "session": _mostly(st.sampled_from(["S1", "S2"]), st.one_of(TEXT, st.integers())),
            "timestamp": TIMESTAMPS,
            # any key is valid: names the pivot must make distinct
            "content": _mostly(st.dictionaries(TEXT, CHATBOT_VALUES, max_size=4), TEXT),
        }
    ),
    max_size=4,
)


def _chatbot_file(elements: list[dict[str, object]]) -> bytes:
    return _payload_json(elements).encode("utf-8", errors="surrogatepass")


PAYLOAD_FIELDS = {
    "customer_id": _mostly(
        st.one_of(st.integers(0, 10**6), st.sampled_from(["#1.008e3#", "#1007.0#"])),
        st.one_of(
            st.integers(min_value=-5, max_value=10**19), st.floats(allow_nan=False, allow_infinity=False),
            st.sampled_from(["1005", "0001001", {"id": 1}, "#1e200000#", "#-1e-5#"]), TEXT,
        ),
    ),
    "message_id": _mostly(
        st.text(min_size=1, max_size=8), st.one_of(st.just("M" * 201), st.integers(), st.just({"a": 1}), TEXT)
    ),
    "customer_name": _mostly(st.sampled_from(["Acme", "Zé"]), TEXT),
    "channel": _mostly(st.sampled_from(["Whatsapp", "WHATS-APP", "sms"]), st.one_of(st.just("w" * 65), TEXT)),
    "payload": _mostly(st.just("Olá"), st.one_of(TEXT, st.just(["x"]))),
    "event_datetime": TIMESTAMPS,
}  # fmt: skip


def _payload_json(fields: object) -> str:
    # "#1e200000#" stands for a raw JSON number that json.dumps cannot write
    return json.dumps(fields, ensure_ascii=False).replace('"#', "").replace('#"', "")


PAYLOADS = st.one_of(
    st.fixed_dictionaries(PAYLOAD_FIELDS).map(_payload_json),
    st.fixed_dictionaries({}, optional=PAYLOAD_FIELDS).map(_payload_json),
    st.sampled_from(['{"customer_id": 1, "x": "\\u0000"}', '{"m": "\\ud800"}', "[1]", '"s"', "{", "null"]),
)


def test_any_input_is_refused_cleanly_or_built(warehouse, tmp_path):
    accepted = {"invoices": 0, "chatbot": 0, "kafka": 0}
    with db.connect(warehouse, autocommit=True) as conn:

        @EXAMPLES
        @given(INVOICE_ROWS, HEADERS, st.booleans(), st.booleans())
        def invoice_files(rows, header, quoted, crlf):
            for part in _whole_and_split(rows):
                path = _file_of(tmp_path, "invoices.csv", _invoice_file(part, list(header), quoted, crlf))
                accepted["invoices"] += _loads_or_refuses(conn, invoices.load, path, "invoices", ":")

        @EXAMPLES
        @given(CHATBOT_ELEMENTS)
        def chatbot_files(elements):
            for part in _whole_and_split(elements):
                path = _file_of(tmp_path, "hour=13.json", _chatbot_file(part))
                accepted["chatbot"] += _loads_or_refuses(
                    conn, chatbot.load, path, "chatbot_answers", ": element ["
                )

        @settings(EXAMPLES, max_examples=300)
        @given(PAYLOADS)
        def kafka_values(value):
            problem = payload_error(value.encode("utf-8", errors="surrogatepass"))
            try:
                with conn.transaction():
                    kind = conn.execute("select jsonb_typeof(cast(%s as jsonb))", (value,)).fetchone()[0]
            except psycopg.DataError:
                kind = None
            # the loader lands exactly the objects jsonb stores; the rest go to the dead letters
            assert (problem is None) == (kind == "object"), (value, problem, kind)
            if problem is None:
                land_events(conn, [value])
                accepted["kafka"] += 1

        invoice_files()
        chatbot_files()
        kafka_values()
    assert all(accepted.values()), accepted  # the strategies reach the build, not only the refusals

    run_warehouse("build", "--quiet", "--exclude", "test_type:unit")
    with db.connect(warehouse, autocommit=True) as conn:
        unaccounted = conn.execute(
            "select count(*) from staging.stg_notifications__events as events"
            " where not exists (select from marts.fct_notifications as stored"
            "   where (stored.customer_id, stored.event_at, stored.message_id)"
            "     = (events.customer_id, events.event_at, events.message_id))"
            " and not exists (select from marts.fct_notification_events_quarantined as quarantined"
            "   where (quarantined.kafka_partition, quarantined.kafka_offset)"
            "     = (events.kafka_partition, events.kafka_offset))"
        ).fetchone()[0]
        assert unaccounted == 0  # every landed event is stored (once) or quarantined with its reason
        flows, views = conn.execute(
            "select (select count(*) from marts.dim_chatbot_flows),"
            " (select count(*) from pg_views where schemaname = 'chatbot')"
        ).fetchone()
        assert flows == views
        assert (
            conn.execute("select count(*) from staging.stg_invoices__invoices").fetchone()[0]
            == conn.execute("select count(*) from raw.invoices").fetchone()[0]
        )
