from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken


class SingleUseRefreshToken(RefreshToken):
    """A refresh token that can be redeemed once, whatever the concurrency.

    Redeeming it is one atomic step: the insert of its blacklist row, unique per token. Of
    several concurrent refreshes with the same token, the one whose insert creates the row
    wins; the others find the row there and fail (401), so no second token chain is made.
    """

    def blacklist(self):
        blacklisted, created = super().blacklist()
        if not created:
            raise TokenError("Token is blacklisted")
        return blacklisted, created
