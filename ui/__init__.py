"""The web app for people who do not write SQL (Streamlit; ``datalake ui`` starts it).

It talks to the API over HTTP only (:mod:`ui.client`); it never reads the lake or the database.
"""
