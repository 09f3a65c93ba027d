"""The caller's organizations, and the question of which one a command is for."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.blocks.text import MAX_MESSAGE_BLOCKS, mrkdwn, pack_lines
from handlers.roles import Role


def build_orgs_message(orgs: list[tuple[str, str, Role, bool]]) -> dict[str, Any]:
    """Each organization as (slug, name, role, is_default), with the caller's role in it."""
    blocks: list[Block] = [HeaderBlock(text="Your MineSync organizations")]
    if not orgs:
        text = "You are not a member of any MineSync organization yet. Ask an Admin to invite you."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
        return {"text": text, "blocks": [b.to_dict() for b in blocks]}
    lines = [
        f"• *{mrkdwn(name)}* `{mrkdwn(slug)}` · {role.label}"
        + ("  _(default)_" if is_default else "")
        for slug, name, role, is_default in orgs
    ]
    footer = "Change your default with `/minesync org use SLUG`, or add `--org SLUG` to a command."
    budget = MAX_MESSAGE_BLOCKS - len(blocks) - 1
    for text in pack_lines(lines, budget):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    default = next((name for _, name, _, is_default in orgs if is_default), None)
    fallback = f"You belong to {len(orgs)} MineSync organization{'s' if len(orgs) != 1 else ''}"
    fallback += f"; your default is {mrkdwn(default)}." if default else "."
    return {"text": fallback, "blocks": [b.to_dict() for b in blocks]}


def build_choose_org_message(orgs: list[tuple[str, str]]) -> dict[str, Any]:
    """Ask which organization a command is for, listing (slug, name) choices."""
    question = (
        "Which organization? You belong to several. Add `--org SLUG` to the command, "
        "or set a default with `/minesync org use SLUG`."
    )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=question))]
    lines = [f"• `{mrkdwn(slug)}` · {mrkdwn(name)}" for slug, name in orgs]
    for text in pack_lines(lines, MAX_MESSAGE_BLOCKS - len(blocks)):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    return {"text": question, "blocks": [b.to_dict() for b in blocks]}
