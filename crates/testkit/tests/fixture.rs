//! The fixture itself works: a site goes from registration to Operational through real txs.

use alloy::primitives::B256;
use sankofa_abi::{
    Rollout,
    ids::{SiteStatus, Tier, site_id},
};
use sankofa_testkit::{SiteSpec, System, WaveSpec, anvil, anvil_key, provider};

#[tokio::test]
async fn a_site_reaches_operational_through_the_fixture() {
    let anvil = anvil(None).unwrap();
    let gov = anvil_key(&anvil, 0);
    let system = System::deploy(
        provider(&anvil, &gov),
        gov.address(),
        [(1, 0, 0, 1), (0, 0, 0, 0), (0, 0, 0, 0)],
    )
    .await
    .unwrap();
    system
        .register(&[SiteSpec::new("core-fra", Tier::Core, 1, None)])
        .await
        .unwrap();
    let agent = anvil_key(&anvil, 1);
    system.bind("core-fra", agent.address()).await.unwrap();
    system.approve_phase(1).await.unwrap();
    let wave = system
        .approve_wave(WaveSpec {
            phase: 1,
            plan: b"[plan]\n",
            plan_uri: "file:///plans/core.toml",
            sites: &["core-fra"],
            not_before: 0,
            expiry: u64::from(u32::MAX),
            max_concurrent: 1,
            step_count: 2,
        })
        .await
        .unwrap();
    assert_eq!(wave, 1);

    let rollout = Rollout::new(system.rollout, provider(&anvil, &agent));
    let site = site_id("core-fra").unwrap();
    for step in 0..2u16 {
        rollout
            .reportStep(site, wave, step, 1, B256::repeat_byte(7))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
    }
    let record = system.registry().site(site).call().await.unwrap();
    assert_eq!(
        SiteStatus::try_from(record.status),
        Ok(SiteStatus::Operational)
    );
    // A report from a stranger reverts with the named error.
    let stranger = Rollout::new(system.rollout, provider(&anvil, &anvil_key(&anvil, 2)));
    let err = stranger
        .reportStep(site, wave, 2, 1, B256::ZERO)
        .call()
        .await
        .unwrap_err();
    let data = err.as_revert_data().expect("revert data");
    let decoded = sankofa_abi::revert::decode(&data).expect("decodable");
    assert!(decoded.starts_with("Rollout"), "{decoded}");
}
