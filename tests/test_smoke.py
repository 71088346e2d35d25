from tests.conftest import centre_of


def test_tree_and_households(tree, homes, users, api):
    assert len(tree.grids) == 8
    assert homes[(1, 1, 1)].grid == tree.grids[(1, 1, 1)]
    response = api(users.worker).get("/api/households/")
    assert response.status_code == 200
    assert [f["id"] for f in response.json()["features"]] == [homes[(1, 1, 1)].pk]
    assert centre_of(tree.grids[(1, 1, 1)]).x < 105.95
