from sqlalchemy import text


async def test_schema_creates_on_both_databases(engine) -> None:
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM flights"))).scalar() == 0
