"""Start your campaign: supporters propose petitions, moderators publish them, starters follow them."""
