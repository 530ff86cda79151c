"""Fixtures shared by the tests of the sans-I/O core (real keys, no mocks)."""

from __future__ import annotations

import pytest
from nacl.signing import SigningKey

from hearth.keys import DeviceKeys, host_id_from_public_key, new_device


@pytest.fixture
def account_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def other_account_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def device(account_key: SigningKey) -> DeviceKeys:
    return new_device(account_key)


@pytest.fixture
def other_device(account_key: SigningKey) -> DeviceKeys:
    """A second device of the same account."""
    return new_device(account_key)


@pytest.fixture
def host_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def other_host_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def host_id(host_key: SigningKey) -> str:
    return host_id_from_public_key(bytes(host_key.verify_key))


@pytest.fixture
def other_host_id(other_host_key: SigningKey) -> str:
    return host_id_from_public_key(bytes(other_host_key.verify_key))
