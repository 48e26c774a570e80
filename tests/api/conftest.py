import pytest

from lastweek.access.tokens import create_token
from tests.api.world import build_world


@pytest.fixture
def users(db):
    """The account acting in each role, in the world of tests/api/world.py."""
    return build_world()


@pytest.fixture
def employee_token(users) -> dict:
    """Headers signing the test client in as the employee with a personal token."""
    return {"HTTP_AUTHORIZATION": f"Bearer {create_token(users['employee'], 'tests')[1]}"}
