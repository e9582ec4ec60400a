from tests.factories import make_organiser, make_problem, make_quest


def test_pages_render(client, login):
    organiser = make_organiser()
    problem = make_problem(organiser)
    quest = make_quest(organiser, problem_id=problem.id)
    login(organiser)
    for url in ["/", "/problems", f"/problems/{problem.id}", "/quests", f"/quests/{quest.id}",
                "/teams", "/leaderboards", "/claims", "/review", "/problems/new", "/quests/new", "/teams/new"]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
