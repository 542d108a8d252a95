"""Errors meant for the person at the other end. Each surface (CLI, HTTP, chat) has one boundary that turns
them into its own kind of answer: an exit code 1 with the message, a 4xx JSON body, a chat reply."""


class UserError(Exception):
    """Something the user can fix; the message says what and how."""

    status = 400


class NotFound(UserError):
    status = 404


class Conflict(UserError):
    status = 409
