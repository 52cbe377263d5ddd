"""The Merkle tree math against Certificate Transparency's reference vectors (RFC 6962 = RFC 9162 §2.1
hashing), against pymerkle as an independent implementation, and by properties over random sizes."""

from __future__ import annotations

import hashlib

import pymerkle
from hypothesis import given
from hypothesis import strategies as st

from services.audit import merkle

# The reference leaves and roots of the Certificate Transparency test suite (RFC 6962 Merkle trees).
CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                        "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [  # (leaf index, tree size, audit path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CT_CONSISTENCY = [  # (first, second, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]


def nodes_of(leaves: list[bytes]) -> dict[merkle.Node, bytes]:
    """Every complete aligned subtree of a log, built by appending as the store does."""
    nodes: dict[merkle.Node, bytes] = {}
    for index, data in enumerate(leaves):
        for level, i, h in merkle.appended_nodes(index, merkle.leaf_hash(data), nodes):
            nodes[(level, i)] = h
    return nodes


def test_roots_match_the_reference_vectors():
    nodes = nodes_of(CT_LEAVES)
    assert merkle.root(0, nodes) == merkle.EMPTY_ROOT == hashlib.sha256(b"").digest()
    builder = merkle.RootBuilder()
    for size, expected in enumerate(CT_ROOTS, start=1):
        assert merkle.root(size, nodes).hex() == expected
        builder.append(merkle.leaf_hash(CT_LEAVES[size - 1]))
        assert builder.root().hex() == expected


def test_inclusion_proofs_match_the_reference_vectors():
    nodes = nodes_of(CT_LEAVES)
    for index, size, path in CT_INCLUSION:
        proof = merkle.inclusion_proof(index, size, nodes)
        assert [p.hex() for p in proof] == path
        leaf = merkle.leaf_hash(CT_LEAVES[index])
        assert merkle.verify_inclusion(index, size, leaf, proof, bytes.fromhex(CT_ROOTS[size - 1]))
        assert not merkle.verify_inclusion(index, size, leaf, proof, bytes.fromhex(CT_ROOTS[0]))
        assert not merkle.verify_inclusion(index, size * 2, leaf, proof, bytes.fromhex(CT_ROOTS[size - 1]))


def test_consistency_proofs_match_the_reference_vectors():
    nodes = nodes_of(CT_LEAVES)
    for first, second, path in CT_CONSISTENCY:
        proof = merkle.consistency_proof(first, second, nodes)
        assert [p.hex() for p in proof] == path
        old, new = bytes.fromhex(CT_ROOTS[first - 1]), bytes.fromhex(CT_ROOTS[second - 1])
        assert merkle.verify_consistency(first, second, old, new, proof)
        if first != second:
            assert not merkle.verify_consistency(first, second, new, new, proof)


def test_pymerkle_hashes_as_rfc_9162_does():
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    for data in CT_LEAVES:
        tree.append_entry(data)
    assert [tree.get_root(n).hex() for n in range(1, 9)] == CT_ROOTS


sizes = st.integers(min_value=1, max_value=300)


@given(size=sizes, data=st.data())
def test_every_inclusion_proof_verifies_and_a_flipped_bit_fails(size, data):
    leaves = [f"record {i}".encode() for i in range(size)]
    nodes = nodes_of(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    root = merkle.root(size, nodes)
    proof = merkle.inclusion_proof(index, size, nodes)
    leaf = merkle.leaf_hash(leaves[index])
    assert len(proof) <= size.bit_length()
    assert merkle.verify_inclusion(index, size, leaf, proof, root)
    # pymerkle, built on its own from the same data, agrees on the root and accepts the proof.
    oracle = pymerkle.InmemoryTree(algorithm="sha256")
    for entry in leaves:
        oracle.append_entry(entry)
    assert oracle.get_root(size) == root
    converted = pymerkle.InclusionProof("sha256", True, size, index + 1,
                                        [*map(int, merkle.sibling_sides(index, size)), 0], [leaf, *proof])
    pymerkle.verify_inclusion(leaf, root, converted, index=index + 1, size=size)
    flipped = _flip(data, [leaf, *proof])
    assert not merkle.verify_inclusion(index, size, flipped[0], flipped[1:], root)


@given(second=sizes, data=st.data())
def test_every_consistency_proof_verifies_and_a_flipped_bit_fails(second, data):
    leaves = [f"record {i}".encode() for i in range(second)]
    nodes = nodes_of(leaves)
    first = data.draw(st.integers(min_value=1, max_value=second))
    old, new = merkle.root(first, nodes), merkle.root(second, nodes)
    proof = merkle.consistency_proof(first, second, nodes)
    assert merkle.verify_consistency(first, second, old, new, proof)
    if first < second:
        flipped = _flip(data, [old, new, *proof])
        assert not merkle.verify_consistency(first, second, flipped[0], flipped[1], flipped[2:])
    # A different log of the same sizes is not consistent with this one.
    other = nodes_of([b"x", *leaves[1:]])
    assert not merkle.verify_consistency(first, second, merkle.root(first, other), new, proof)


def _flip(data, hashes: list[bytes]) -> list[bytes]:
    which = data.draw(st.integers(min_value=0, max_value=len(hashes) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    changed = bytearray(hashes[which])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*hashes[:which], bytes(changed), *hashes[which + 1:]]


def test_nodes_are_appended_as_their_subtrees_complete():
    assert merkle.left_siblings(0) == [] and merkle.left_siblings(6) == []
    assert merkle.left_siblings(7) == [(0, 6), (1, 2), (2, 0)]
    nodes = nodes_of(CT_LEAVES)
    assert sorted(nodes) == sorted([(0, i) for i in range(8)] + [(1, i) for i in range(4)] + [(2, 0), (2, 1), (3, 0)])
    assert merkle.pieces(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert merkle.needed([(0, 5)]) == {(2, 0), (0, 4)}
