from tests.e2e.harness import reply_text


async def test_help_answers_in_the_http_response(slack):
    reply = await slack.command("ada", "help")
    assert reply.status == 200
    assert reply.body["response_type"] == "ephemeral"
    assert "remove" in reply_text(reply)
