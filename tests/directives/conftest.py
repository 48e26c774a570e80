import pytest


@pytest.fixture(autouse=True)
def own_data_dir(settings, tmp_path):
    """Each test keeps its send journals to itself: a journal left by one test must not be read by
    another whose cycle happens to have the same id."""
    settings.DATA_DIR = tmp_path
