"""The bot's queries, upstream style: decorated handlers reading state and parameters."""

from the0 import query, state


@query.handler("/position")
def position(req):
    return {"position": state.get("position", 0), "last": state.get("last")}


@query.handler("/prices")
def prices(req):
    limit = req.get("limit", 5)
    history = state.get("prices", [])
    return {"prices": history[-limit:], "limit": limit, "symbol": query.get_config().get("symbol")}


@query.handler("/params")
def params(req):
    return {"params": query.get_params(), "symbol": req.get("symbol", "BTC/USD")}


@query.handler("/reset")
def reset(req):
    state.clear()  # queries are read-only: this raises
    return {"reset": True}


if __name__ == "__main__":
    query.run()
