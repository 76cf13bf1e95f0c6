"""taxii2-client (PyPI) against `moat intel serve`: the whole TAXII 2.1 cycle, then `moat intel push`,
`pull` and `match` between the server and a second store."""

import json
import os
import subprocess
import uuid

import pytest
import requests
from taxii2client.common import TokenAuth
from taxii2client.exceptions import AccessError
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from conftest import AMBER, PUBLIC, RED, load

TAXII = "application/taxii+json;version=2.1"
AMBER_MARK = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
RED_MARK = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


def api_root(taxii_url, **auth) -> ApiRoot:
    server = Server(f"{taxii_url}/taxii2/", **auth)
    assert server.default is not None
    return server.default


def collection(root: ApiRoot, cid: str) -> Collection:
    return next(c for c in root.collections if c.id == cid)


@pytest.fixture(scope="module")
def published(taxii_url, publisher, work):
    """The scenario's AMBER bundle, added by the publisher (once per session)."""
    objects = load(work / "bundle-1-amber.json")["objects"]
    status = collection(api_root(taxii_url, auth=publisher), AMBER).add_objects({"objects": objects}, wait_for_completion=False)
    return objects, status


def test_discovery_and_api_root(taxii_url, lab_b):
    server = Server(f"{taxii_url}/taxii2/", auth=lab_b)
    assert server.title == "Moat CI TAXII"
    assert [r.url for r in server.api_roots] == [server.default.url]
    assert server.default.url.endswith("/api1/")
    assert "application/taxii+json;version=2.1" in server.default.versions
    assert server.default.max_content_length > 0


def test_each_peer_lists_its_collections_with_its_rights(taxii_url, lab_b, lab_c, publisher):
    b = {c.id: (c.can_read, c.can_write) for c in api_root(taxii_url, auth=lab_b).collections}
    assert b == {AMBER: (True, False), RED: (True, False), PUBLIC: (True, False)}
    c = {c.id: (c.can_read, c.can_write) for c in api_root(taxii_url, user=lab_c[0], password=lab_c[1]).collections}
    assert c == {AMBER: (True, False), PUBLIC: (True, False)}
    p = {c.id: (c.can_read, c.can_write) for c in api_root(taxii_url, auth=publisher).collections}
    assert p == {AMBER: (True, True), RED: (False, True), PUBLIC: (True, True)}
    # taxii2-client's own TokenAuth ("Authorization: Token ...") works too.
    token = api_root(taxii_url, auth=TokenAuth(os.environ["MOAT_TEST_LAB_B_TOKEN"])).collections
    assert {c.id for c in token} == set(b)


def test_add_objects_and_poll_the_status(taxii_url, publisher, published):
    objects, status = published
    assert status.status == "complete"
    assert status.total_count == len(objects)
    assert status.success_count == len(objects), [f for f in status.failures][:3]
    assert status.failure_count == 0 and status.pending_count == 0
    status.refresh()
    assert status.success_count == len(objects)
    again = api_root(taxii_url, auth=publisher).get_status(status.id)
    assert again.id == status.id and again.success_count == len(objects)


def test_page_through_every_object(taxii_url, lab_b, published):
    objects, _ = published
    coll = collection(api_root(taxii_url, auth=lab_b), AMBER)
    seen, pages = [], 0
    for envelope in as_pages(coll.get_objects, per_request=7):
        seen += [o["id"] for o in envelope.get("objects", [])]
        pages += 1
    assert sorted(seen) == sorted(o["id"] for o in objects)
    assert pages >= len(objects) // 7


def test_manifest_versions_and_filters(taxii_url, lab_b, published):
    objects, _ = published
    coll = collection(api_root(taxii_url, auth=lab_b), AMBER)
    entries = [m for page in as_pages(coll.get_manifest, per_request=200) for m in page.get("objects", [])]
    assert {m["id"] for m in entries} == {o["id"] for o in objects}
    assert all(m["media_type"] == "application/stix+json;version=2.1" for m in entries)
    indicators = coll.get_objects(type="indicator")
    assert indicators["objects"] and all(o["type"] == "indicator" for o in indicators["objects"])
    one = next(o for o in objects if o["type"] == "campaign")
    got = coll.get_object(one["id"])
    assert got["objects"][0]["id"] == one["id"]
    assert coll.object_versions(one["id"])["versions"] == [one["modified"]]
    added = entries[len(entries) // 2]["date_added"]
    later = coll.get_objects(added_after=added)["objects"]
    assert 0 < len(later) < len(objects)


def test_a_red_object_is_refused_by_the_amber_collection_but_not_by_lab_bs(taxii_url, publisher):
    ident = f"indicator--{uuid.uuid4()}"
    red = {"type": "indicator", "spec_version": "2.1", "id": ident, "created": "2026-04-01T00:00:00.000Z",
           "modified": "2026-04-01T00:00:00.000Z", "pattern": "[autonomous-system:number = 64500]", "pattern_type": "stix",
           "valid_from": "2026-04-01T00:00:00Z", "object_marking_refs": [RED_MARK]}
    root = api_root(taxii_url, auth=publisher)
    refused = collection(root, AMBER).add_objects({"objects": [red]})
    assert refused.failure_count == 1 and "TLP:RED" in refused.failures[0]["message"]
    accepted = collection(root, RED).add_objects({"objects": [red]})
    assert accepted.success_count == 1


def test_peers_without_rights_are_kept_out(taxii_url, lab_b, lab_c):
    c_root = api_root(taxii_url, user=lab_c[0], password=lab_c[1])
    assert RED not in {c.id for c in c_root.collections}
    r = requests.get(f"{taxii_url}/api1/collections/{RED}/objects/", headers={"Accept": TAXII}, auth=lab_c)
    assert r.status_code == 403
    with pytest.raises(AccessError):
        collection(api_root(taxii_url, auth=lab_b), AMBER).add_objects({"objects": []})
    r = requests.get(f"{taxii_url}/api1/collections/{AMBER}/objects/", headers={"Accept": TAXII})
    assert r.status_code == 401
    r = requests.get(f"{taxii_url}/api1/collections/", headers={"Accept": TAXII, "Authorization": "Bearer wrong-token-0000000000"})
    assert r.status_code == 401


def test_wrong_media_types_get_406_and_415(taxii_url, lab_b, publisher):
    for accept in ["application/json", "*/*", "application/taxii+json;version=2.0"]:
        r = requests.get(f"{taxii_url}/taxii2/", headers={"Accept": accept}, auth=lab_b)
        assert r.status_code == 406, accept
        assert r.headers["Content-Type"] == TAXII
    r = requests.post(f"{taxii_url}/api1/collections/{AMBER}/objects/", data=b'{"objects": []}',
                      headers={"Accept": TAXII, "Content-Type": "application/json"}, auth=publisher)
    assert r.status_code == 415


def run_moat(moat_bin, *args):
    run = subprocess.run([moat_bin, *args], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"moat {' '.join(args)}: {run.stderr[-2000:]}"
    return run.stdout


def test_push_pull_and_match_between_two_stores(taxii_url, moat_bin, work, published):
    # Publish the second scenario's bundle with moat's own client, then pull the collection as lab B.
    out = run_moat(moat_bin, "intel", "push", str(work / "bundle-2-amber.json"), "--to", f"{taxii_url}/taxii2/",
                   "--collection", AMBER, "--token-env", "MOAT_TEST_PUBLISHER_TOKEN")
    assert "added to collection" in out
    store = work / "lab-b.sqlite"
    # The scenarios live in their own time: expiry is judged at the end of scenario 1.
    as_of = load(work / "sim-1" / "report.json")["summary"]["last_ts"]
    pulled = json.loads(run_moat(moat_bin, "intel", "pull", "--from", f"{taxii_url}/taxii2/", "--collection", AMBER,
                                 "--token-env", "MOAT_TEST_LAB_B_TOKEN", "--store", str(store), "--page-size", "40", "--json",
                                 "--as-of", as_of))
    assert pulled["pages"] > 1 and pulled["indicators"] > 0 and pulled["added"] > 0
    assert pulled["held"] == pulled["added"] + pulled["updated"] and pulled["expired"] == 0
    expired = json.loads(run_moat(moat_bin, "intel", "pull", "--from", f"{taxii_url}/taxii2/", "--collection", AMBER, "--full",
                                  "--token-env", "MOAT_TEST_LAB_B_TOKEN", "--store", str(work / "late.sqlite"), "--json",
                                  "--as-of", "2030-01-01T00:00:00Z"))
    assert expired["expired"] == expired["indicators"] > 0 and expired["held"] == 0, "indicators past valid_until are not kept"
    again = json.loads(run_moat(moat_bin, "intel", "pull", "--from", f"{taxii_url}/api1/", "--collection", AMBER,
                                "--token-env", "MOAT_TEST_LAB_B_TOKEN", "--store", str(store), "--json", "--as-of", as_of))
    assert again["objects"] == 0 and again["resumed_after"], "a second pull resumes after the first"
    # Lab B holds the group's key: its copy of scenario 1's accounts and traffic match.
    sim = work / "sim-1"
    lines = run_moat(moat_bin, "intel", "match", "--store", str(store), "--config", str(work / "intel.yaml"),
                     "--accounts", str(sim / "accounts.jsonl"), "--exchanges", str(sim / "exchanges.jsonl"), "--json",
                     "--as-of", as_of).splitlines()
    matches = [json.loads(line) for line in lines]
    assert matches
    kinds = {m["kind"] for m in matches}
    assert "keyed:account-id" in kinds
    assert all(m["source"].endswith(f"collection {AMBER}") and m["tlp"] == "amber" for m in matches)
    assert all(0 < m["confidence"] <= 100 and m["reason"] for m in matches)
    def members(seed):
        return {a for c in load(work / f"sim-{seed}" / "report.json")["campaigns"] for a in c["accounts"]}

    keyed = {m["account_id"] for m in matches if m["kind"] == "keyed:account-id"}
    # Scenario 1's campaign accounts, and any of scenario 2's that happen to share an id with an account here.
    assert members(1) <= keyed <= members(1) | members(2)
