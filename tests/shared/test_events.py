"""Event contracts across versions: a consumer reads the versions its contract still can
(events queued before an upgrade), and refuses the rest as not understood."""

import pytest

from shared.events import EVENT_TYPES, InvalidEvent, new_event, parse_event
from tests.notifications import samples


def as_version(event_type: str, version: int, data: dict) -> dict:
    return {**new_event(event_type, data).envelope(), "version": version}


def test_an_order_event_queued_before_change_of_was_added_is_read():
    before = samples.order()
    before.pop("change_of", None)
    event = parse_event(as_version("order_placed", 2, before))
    assert event.version == 2 and event.data.change_of is None
    assert parse_event(as_version("order_updated", 1, before)).data.order_id == before["order_id"]


@pytest.mark.parametrize("version", [1, 4, "3", None])
def test_a_version_the_contract_cannot_read_is_refused(version):
    with pytest.raises(InvalidEvent, match="not understood"):
        parse_event(as_version("order_placed", version, samples.order()))


def test_every_contract_reads_only_versions_up_to_its_own():
    for contract in EVENT_TYPES.values():
        assert contract.reads(contract.version)
        assert not contract.reads(contract.version + 1)
        assert (contract.reads_from or contract.version) <= contract.version
