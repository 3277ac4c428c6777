"""The web gateway: the only door through which shoppers' browsers reach the assistant.

It issues anonymous sessions, verifies the store's customer tokens, derives the Rasa
sender id itself and talks to Rasa on the shopper's behalf (see ``app.create_app``).
"""
