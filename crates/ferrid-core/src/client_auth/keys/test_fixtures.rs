//! Test material made once with OpenSSL 3.0 (public test keys only; the private keys
//! inside the PFX files were thrown away after writing them).
//!
//! ```sh
//! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
//!   -out ca.pem -days 36500 -subj "/CN=ferrid test CA"
//! openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key \
//!   -out leaf.csr -subj "/O=ferrid tests/CN=pfx client"
//! openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 36500
//! P="-inkey leaf.key -in leaf.pem"
//! openssl pkcs12 -export $P -certfile ca.pem -passout pass:correct-horse -out modern.pfx
//! openssl pkcs12 -export $P -legacy -passout pass:correct-horse -out legacy.pfx
//! openssl pkcs12 -export $P -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 \
//!   -iter 2000 -passout pass:correct-horse -out tdes.pfx
//! openssl pkcs12 -export $P -nomac -passout pass:correct-horse -out nomac.pfx
//! openssl pkcs12 -export $P -passout pass: -out emptypw.pfx
//! openssl pkcs12 -export -nocerts -inkey leaf.key -passout pass:correct-horse -out nocert.pfx
//! openssl req -x509 -newkey rsa:1024 -nodes -keyout r.key -out rsa1024.pem -days 36500 -subj "/CN=weak rsa"
//! openssl ecparam -name secp256k1 -genkey -noout | openssl ec -pubout > k1pub.pem
//! ```

/// The password of every PFX fixture but [`PFX_EMPTY_PASSWORD`].
pub const PFX_PASSWORD: &str = "correct-horse";

/// The end-entity certificate in every PFX fixture (P-256, issued by [`CA_PEM`]).
pub const LEAF_PEM: &str = "\
-----BEGIN CERTIFICATE-----
MIIBQjCB6AIUZkDan0surS966dvPuc3rW4lTYKAwCgYIKoZIzj0EAwIwGTEXMBUG
A1UEAwwOZmVycmlkIHRlc3QgQ0EwIBcNMjYxMTIyMTYyNzAxWhgPMjEyNjEwMjkx
NjI3MDFaMCwxFTATBgNVBAoMDGZlcnJpZCB0ZXN0czETMBEGA1UEAwwKcGZ4IGNs
aWVudDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLYXzLeuLUriiM8axPHv3XUN
VTsIVYRDm2EjEuXoTyr3J+zAXYRPLoTBxIsy6jsWnzqZjjtj7JgP1uJrNWC+noMw
CgYIKoZIzj0EAwIDSQAwRgIhANYmeVXOcZgPtaumz+Z5Ll59Sq96JL2BtF0bT3Tl
1e32AiEAjU77GTAnX2p7Oj4wvFOe/N1VQpiqbxlvNVhGOOH43z4=
-----END CERTIFICATE-----
";

/// The CA certificate that `modern.pfx` carries after the leaf.
pub const CA_PEM: &str = "\
-----BEGIN CERTIFICATE-----
MIIBiTCCAS+gAwIBAgIUGt+n2FvLdt6SDGKM9TKoDo0SSEcwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOZmVycmlkIHRlc3QgQ0EwIBcNMjYxMTIyMTYyNzAxWhgPMjEy
NjEwMjkxNjI3MDFaMBkxFzAVBgNVBAMMDmZlcnJpZCB0ZXN0IENBMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAErN23pArhNr72UTqJzE/S/02QNiXbfY6jFtd016K4
73Q81+7ofAOzdDrs0uM5pFkacaT8ui0WjU/6kTxG2BDNsKNTMFEwHQYDVR0OBBYE
FF+eWHk4/mdm+5sSH0YWFvJ5APOaMB8GA1UdIwQYMBaAFF+eWHk4/mdm+5sSH0YW
FvJ5APOaMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgFpJmn8Jx
/2yTO5OPjVO9UPylXHu8dDBte+8kh+L204YCIQCvd9wMvWxVYtnR6GEgqM49ZKeK
A8XHTxGwiDecyGEGdg==
-----END CERTIFICATE-----
";

/// OpenSSL 3 default: PBES2 AES-256-CBC, PBKDF2-HMAC-SHA-256, HMAC-SHA-256 MAC; leaf + CA.
pub const PFX_MODERN: &str = "\
    MIIFjAIBAzCCBUIGCSqGSIb3DQEHAaCCBTMEggUvMIIFKzCCA+IGCSqGSIb3DQEHBqCCA9MwggPPAgEAMIIDyAYJ\
    KoZIhvcNAQcBMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjnb2jsp7BltwICCAAwDAYIKoZIhvcNAgkF\
    ADAdBglghkgBZQMEASoEEFuyZp5VQ9Cg0c/CmFs4XqSAggNgJxzbze/8feEMGz4yi2EBdM6nrdBOtQyT/+aQ2GTm\
    2KxJfEpiSN7oqqdkjqQo8drUqmic8DSROQ4QtCYHV/XU7B0t+ai8InDPUy6ZYT1mjDkC6R7U7IBSL2xj304AHQir\
    QE7KoHf60NCvny5+XaEgTO+qD4VoawNuffsixQNWQ2r99gXZ1DwwvJ2kt0fgUb9OP5tMrtk7LfuHRAyRWbv2OxMH\
    JFG5FIfQ36Qg7sjJGLRcL1FWW4ra+j1qC/iP0FZtoUgxwPVd9uqCgPDs4JRwjttbnVlFu2L/Ot70HIQZn4Xwyrz7\
    4t0R5Fqoh/vNj+Lh9DR2QawPrxY0a1lVLv0rhk2kB2YaGkfBlRutHSyc6ntAAK/zsZ2k9RPJXc0bKztx1HRI+ECY\
    c4KAYqA/Muhu1deTndpadUAryhoQPeQ/pqRf0H0Y84mJu4PhoEEhFCTsMm1xV3Sa1GxX26bGriNNOHsh2WdLozYT\
    92L5ggUjUR1e3biOK+qn4hTbPKKfa9qlhYLFdEnA1xxrciFpzV27Oi6WFae97sEurdMu9rm9s3/94YMgn2N9rNPm\
    zEkY/uV2EBuCMN2TrVS8Aw6kZH3DMh+zY6eU92lEyE+Z1ae285NLbUzUoPM3DhQF788r34kgwq8QANvwFupybb2H\
    LwMcR6U4ImjhOBCfJNbpYxVdVpJX8hzDBIRVdC+a15BngjpId5vG+xq3LeQE/VVDW+B2RrW5MfJ86fhX9sY9ilxU\
    B/04qFqU5gKV1Ulmt/Lfy+rK7EL9pSC6uC8HBsn8I/OgbSzhkc3pQZ68y9Ia6pMw2wAJgi3rI5e/IuioP1izsbiu\
    nb6j5VxZXJaIFvJfhUPeN8dZaQEcZNq0cEq536TJThGkboaa0piUVvcBOvPNz4hgTfOA6wMilb2NWTleb2e2xkmg\
    IsW+2M2BNdMyHVeQkgVUjlppM00/moQZtlZhjKLk72uxjG4Q8W2DVsWFOwD8SXeCy987nXISopquBwetXZuUuop4\
    qAkrqRrKVmSnNW26EKtSwqdo3VSFS/tuqDyMyk18p0AVh2VOFkmit84Pbx28GGpyW5dJTQz7m1cVkKT372qKB+nw\
    Xrch7582UfznQt/oLrweRcVzzJ+02TIaCeFxDnSDeE4WXKvb/a38cVoaMIIBQQYJKoZIhvcNAQcBoIIBMgSCAS4w\
    ggEqMIIBJgYLKoZIhvcNAQwKAQKgge8wgewwVwYJKoZIhvcNAQUNMEowKQYJKoZIhvcNAQUMMBwECKKBXXqHsA+R\
    AgIIADAMBggqhkiG9w0CCQUAMB0GCWCGSAFlAwQBKgQQzMDdWfSs6FWuib+AP8snUASBkCy/8kNSVF0xDYrunA8t\
    HZwE3pq8MfA353+Mxgvj2GTiCFtACn1HA2iu+wJAn2C81VS0maM8C9RRaIxNE7jP2HVqov0ML5hj38GSdHgg+k5Y\
    Wk3HRMpEyboVlWzzEn5tTDHLOf9L/DKEGtJN7VdcyWlF4d8jB5cwHHVRgoF4w/mEedsit007VpTAeXMl3W8T7TEl\
    MCMGCSqGSIb3DQEJFTEWBBRtZ1S078rhPP9LUimAWqjKQZvXJDBBMDEwDQYJYIZIAWUDBAIBBQAEIPYB2sS4MC4g\
    5TqN6OrYvV/AiMg+/jVlLRjBcpiw2V0MBAhNctPbt5jkAwICCAA=";

/// `-legacy`: certificates under RC2-40, key under 3DES, HMAC-SHA-1 MAC.
pub const PFX_LEGACY: &str = "\
    MIIDQgIBAzCCAwgGCSqGSIb3DQEHAaCCAvkEggL1MIIC8TCCAecGCSqGSIb3DQEHBqCCAdgwggHUAgEAMIIBzQYJ\
    KoZIhvcNAQcBMBwGCiqGSIb3DQEMAQYwDgQISYRFhw58ubwCAggAgIIBoLZTFKecEXCWqXm5uoc/Js6JTRDATEcQ\
    NKDEMs4b8vAMU4ANOMmVUPVRHRX7pWcA2YV/hhmu/rTVwcvES1K6oKi5jSEwwT7TT1uXDNL/7giipXpI5BpHvC5e\
    erI3mMT7hKTrm7cDqn568f+mQ2t0cU/3KH5EblrEVLTd56yFAHpttIt4nM8doY0bHCU98/0+uougpX3T/6rqXpxQ\
    9XtZyrB+8EGgsupmIKxX6dqeXJpe1Llq9wtYypqV2+d3nqRjye9Ok10eBkU6u5sU7DzwOemXHrP3MmDSuH9nzaew\
    wTeqx89Ref9tG1cJPmg+aoTKrowtNlIp3IRpR93wxBkYwyu5v859/BJ/649AArg4HzVTP4+rFpsPXnladbiwJj5n\
    48NBaEeFsw+zwFbxe+Ve0kJM996Lq4d4/043FdnM0Mc+yYqkh2Gc7xPXZJqj03cVCSYtFD3Mi3wRu6HsmSMVzzuw\
    kpQql4S4hbb4YpYjAaxQogQCuDmTofZDakyiXUhHCzAE+gJ1q88zAO4zVy9hWudX1RGzBRyXZxVmyOUS5bqxMIIB\
    AgYJKoZIhvcNAQcBoIH0BIHxMIHuMIHrBgsqhkiG9w0BDAoBAqCBtDCBsTAcBgoqhkiG9w0BDAEDMA4ECBwnuCpV\
    dCScAgIIAASBkOOd9aG43FEaxNRom31qWRrj5l24kQbWYT5IKgcMr+v7lgMfR5nIJ8/nGJDFU112GEff2SsYsBbJ\
    LZgeF8ZeMD9jH91VncoGOzG6oowa64zEP5idJ4JxICz9w5rqT0aAVPn2NcA+AQzTHAmm/dJDW0KYBjeyLWNqNiqd\
    OAGfmo467pLPNUcECSKF//Lva3a2lDElMCMGCSqGSIb3DQEJFTEWBBRtZ1S078rhPP9LUimAWqjKQZvXJDAxMCEw\
    CQYFKw4DAhoFAAQUY+smrb68cYhpLo4jGzQhk6WnO6cECI0oD3QlJC9zAgIIAA==";

/// Windows-style TripleDES-SHA1 export: 3DES for key and certificate, SHA-1 MAC, 2000 iterations.
pub const PFX_3DES: &str = "\
    MIIDQgIBAzCCAwgGCSqGSIb3DQEHAaCCAvkEggL1MIIC8TCCAecGCSqGSIb3DQEHBqCCAdgwggHUAgEAMIIBzQYJ\
    KoZIhvcNAQcBMBwGCiqGSIb3DQEMAQMwDgQIaQU4GuPWOyoCAgfQgIIBoDfVAISs6lsuFn5tHHgol3K0N1RMUZKY\
    G6zHDMMrSP/H83h96MOnfwo3nmEGusgi90ETVXvQbpaMyfDCNzSs5iNLI7KsnozXdzwrGiSvEK16OgdobQEv1nsr\
    EduNV0RJ5/1izbm7tCt/KqbKtcAwB63pHOjZd6i9JqsJIlBpEEvn2NlQPaNBLC8z7r8+6EZyVqPQVLiw1XEWjYJi\
    mxY2J8+sEsZ9X4kDtYB3T8Yj4Vvl20XnvyZFDmmOQGJj4CExr8cHhijaHiNexs6HlzkEu7cERPeInCktTGQ/TL0H\
    Nf5xmeilU2rgKKBZncLJiiXYKx4v7aH9mGXNURJkWX+VwQmGibtyRfPdIJweEWCOzRQAXWUBoukjqyg8h1nXZR/Y\
    LQz9Zn5mnJSSgt0sHWtQz6zHxKYmH+BBm2n1ktAWGqS5eYmq6LA1mVCvg4rZ3MJ4NEM1RinI7MEssaohsgCD/g60\
    MDxfk8Ap9d/CoyyVXM+TY0dLL/5UXlkDppkkG0L7c4jFwJ0/OpNzDQK1HvDa4WqUDzQOaaM8esz3DbO2t5rUMIIB\
    AgYJKoZIhvcNAQcBoIH0BIHxMIHuMIHrBgsqhkiG9w0BDAoBAqCBtDCBsTAcBgoqhkiG9w0BDAEDMA4ECLQvhxgp\
    ZmTXAgIH0ASBkHwq7uqR19FVDkNvwtgyt0Wuk9hBroa/qTo4j/zRss6dY0ZCToL3lYZA8Z5437IYKL1HY3KCOp+6\
    GN4lh+b6ZMCMYSQwqW3qx7u9rmYEEJjX4bwwvX59Aw2wof+dAFVwtI52oO5TyPhWhLIDlrXspgVuKhEHyFUBoPZ/\
    WOwP09bao9Y0iHAgTT0TS+Dx1UnJPjElMCMGCSqGSIb3DQEJFTEWBBRtZ1S078rhPP9LUimAWqjKQZvXJDAxMCEw\
    CQYFKw4DAhoFAAQUSlDous7mFPMrM3V5NK9x9VTRn/EECNgOKnK//T9+AgIH0A==";

/// Modern encryption but no MAC (`-nomac`): no integrity check.
pub const PFX_NO_MAC: &str = "\
    MIIDGAIBAzCCAxEGCSqGSIb3DQEHAaCCAwIEggL+MIIC+jCCAbEGCSqGSIb3DQEHAaCCAaIEggGeMIIBmjCCAZYG\
    CyqGSIb3DQEMCgEDoIIBXjCCAVoGCiqGSIb3DQEJFgGgggFKBIIBRjCCAUIwgegCFGZA2p9LLq0veunbz7nN61uJ\
    U2CgMAoGCCqGSM49BAMCMBkxFzAVBgNVBAMMDmZlcnJpZCB0ZXN0IENBMCAXDTI2MTEyMjE2MjcwMVoYDzIxMjYx\
    MDI5MTYyNzAxWjAsMRUwEwYDVQQKDAxmZXJyaWQgdGVzdHMxEzARBgNVBAMMCnBmeCBjbGllbnQwWTATBgcqhkjO\
    PQIBBggqhkjOPQMBBwNCAAS2F8y3ri1K4ojPGsTx7911DVU7CFWEQ5thIxLl6E8q9yfswF2ETy6EwcSLMuo7Fp86\
    mY47Y+yYD9biazVgvp6DMAoGCCqGSM49BAMCA0kAMEYCIQDWJnlVznGYD7Wrps/meS5efUqveiS9gbRdG0905dXt\
    9gIhAI1O+xkwJ19qezo+MLxTnvzdVUKYqm8ZbzVYRjjh+N8+MSUwIwYJKoZIhvcNAQkVMRYEFG1nVLTvyuE8/0tS\
    KYBaqMpBm9ckMIIBQQYJKoZIhvcNAQcBoIIBMgSCAS4wggEqMIIBJgYLKoZIhvcNAQwKAQKgge8wgewwVwYJKoZI\
    hvcNAQUNMEowKQYJKoZIhvcNAQUMMBwECF/mi5hdB5XMAgIIADAMBggqhkiG9w0CCQUAMB0GCWCGSAFlAwQBKgQQ\
    evD7isG6Hgta4Syy/71+DgSBkEIzhR/kDPO13AYUjQtyvggheIj5e1nCwpd6jIux0jKxrlRb6plWKO6PJEb2bBVo\
    7PnWP9nu0zNb/6lPO0SG6i3M+GeFaAvYOKG6F8WwO8A+rRsOp1RCHqBjI0tmD0pDFMQRiDiqKyAJw/BFp/ia21hg\
    6HHRp88y94l2Gq3Hwcp9K+xN2qQCaMOC9Kj6P93VHzElMCMGCSqGSIb3DQEJFTEWBBRtZ1S078rhPP9LUimAWqjK\
    QZvXJA==";

/// Written with an empty password.
pub const PFX_EMPTY_PASSWORD: &str = "\
    MIIDzAIBAzCCA4IGCSqGSIb3DQEHAaCCA3MEggNvMIIDazCCAiIGCSqGSIb3DQEHBqCCAhMwggIPAgEAMIICCAYJ\
    KoZIhvcNAQcBMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgKHuRCHfNIGAICCAAwDAYIKoZIhvcNAgkF\
    ADAdBglghkgBZQMEASoEENFPh/mYBrsstyVp029QUGGAggGgmBRUXG2j0qvxPNvRyw+6U6F7Q5Ur11tpsvEUjmBk\
    Jcm0VpaavERv23Hb9KjeQc4Ix0C0laG///Q1UPdpnRRdu3H0542+eAyWfBB+WKeW1rN58c6HrwFDjsdWpr/uvAzR\
    sIVtNDcgDEBLsSumyltS2e/Vf0ZBxCkujoVIq0/swNwVh41RhQcD4OX34TS8MRUiuBbccjw45oMj6jcxcr9XVY7G\
    V92vKW4OdLRqgCKZsf+XmsTEHj3hyWPm9J5PL0PT1yJfRzPhoo06OFK8wb7urv8mzrizuS2SBHP7js1X+PveFv4u\
    BcMqjc1DfMSG3+Il9UEpRSTJZ8zs15+i818KKK73itlM1kN8S1fz+Hqsem6H1+avC4VP89k9K53jHP+1oXHQTXxx\
    HpP7mesnsp41tetzdtPg9BDY4IeUjezXtmR8eM+rCizLvpp91609PG0DuMV0Kj/jnmFJLQ3fM01vEHctdfDsvVnE\
    LG6Aw/0jYX525VlGvXfqskfu8w+VP4Hb1BTA8Upf1C7KW1tLLE8JsSExzz6V2YgdRhEJp55uW30wggFBBgkqhkiG\
    9w0BBwGgggEyBIIBLjCCASowggEmBgsqhkiG9w0BDAoBAqCB7zCB7DBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0B\
    BQwwHAQIjvggH8dMhZcCAggAMAwGCCqGSIb3DQIJBQAwHQYJYIZIAWUDBAEqBBCQY5dcsd1TvK+zGgLrY9KBBIGQ\
    LmWWbcXrGprgEPBf1nhqOiB2k7bgLGLLRySg1RTFPvzmZf+pJChS6B36LewljMefXDsDxPyhfseeZS1IUuABEyZc\
    xGtljw+va4JwQC3uw9q+qzD4yM/UNg1INqOE7yXjGohCmbS5herdopINK1qqzPVnX/WVPoYC0TkQ1urHE4VDGudg\
    1YtN1iioWoT1459xMSUwIwYJKoZIhvcNAQkVMRYEFG1nVLTvyuE8/0tSKYBaqMpBm9ckMEEwMTANBglghkgBZQME\
    AgEFAAQgxDSZKtVAF79pkQyvq0j0YudnCP/GYiGeWexp7KzZS3YECJqwz6pgPJMoAgIIAA==";

/// A private key and no certificate (`-nocerts`).
pub const PFX_NO_CERT: &str = "\
    MIIBfgIBAzCCATQGCSqGSIb3DQEHAaCCASUEggEhMIIBHTCCARkGCSqGSIb3DQEHAaCCAQoEggEGMIIBAjCB/wYL\
    KoZIhvcNAQwKAQKgge8wgewwVwYJKoZIhvcNAQUNMEowKQYJKoZIhvcNAQUMMBwECPZDCuBGWAkOAgIIADAMBggq\
    hkiG9w0CCQUAMB0GCWCGSAFlAwQBKgQQSM3QFUnB0sqIJDml7VbDGwSBkFPnbFOj2O8DHuUxc7NWgmHBGWp42EpL\
    WCN7Y7rSjfS1BdmG/y3I9f7uuAjrd/zS+Im0lFqJ543a4Nr4bFPCxnJkkQLSbai/ZG8OrsLugr+vn0/VBHYGt1Bg\
    JuUZN+Pq2hGr3j6wUSoupGimDPtSo9mMF8IPFcyT/en0IGsQRD73bdSnkPYsiaA/CkxnimLg7zBBMDEwDQYJYIZI\
    AWUDBAIBBQAEIFNVPIWBRPOsU8hD28keYjV1JKDmkTQcgwCKTzCveAhrBAhsLsZk8b9u0QICCAA=";

/// A self-signed certificate with an RSA-1024 key.
pub const RSA_1024_CERT_PEM: &str = "\
-----BEGIN CERTIFICATE-----
MIICBDCCAW2gAwIBAgIUMCXncU4F2koPXxLiQq9dCkdDPdUwDQYJKoZIhvcNAQEL
BQAwEzERMA8GA1UEAwwId2VhayByc2EwIBcNMjYxMTIyMTYyNzAxWhgPMjEyNjEw
MjkxNjI3MDFaMBMxETAPBgNVBAMMCHdlYWsgcnNhMIGfMA0GCSqGSIb3DQEBAQUA
A4GNADCBiQKBgQDAy3ezUpBmVZkv5RPJffDVXV212udbOku3/IrxGh4NwcXEELiM
HLBydqgYVMCUWdBkS/9ZlkFnMuSjw4UN91EoL83sMN9L75d4myPWxw4RpOUW/eEn
uuqogkg+fXOZtC/h+0SYd6sdC3z8N2CnNushd6LY8sjw2zeGYyDLSzsjUQIDAQAB
o1MwUTAdBgNVHQ4EFgQUeeOW4u/XjelekT4CHdfAPGO0XY8wHwYDVR0jBBgwFoAU
eeOW4u/XjelekT4CHdfAPGO0XY8wDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0B
AQsFAAOBgQCNYKN4Vrn4temZNhHCCXznjbUO5308i1IjiD39lrTyhtJcgIv1uA9z
Omz6RN9yTV0kUfc5J5bcxuenQKHMCMcD3N+NCv9qvIbx4HrSMgdbEUlZAI34AZ4V
3JNX0RVMHJChVuLV0WTVMeMw7yHVLqsMDMBpUWNducnqDiQnhCzTAg==
-----END CERTIFICATE-----
";

/// A secp256k1 public key (SPKI).
pub const SECP256K1_PUBLIC_PEM: &str = "\
-----BEGIN PUBLIC KEY-----
MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEVFAjTmCpuxiVHa0z6Hk8MIbBQiUPo4Ft
hTYM98kbJ7wKGJjF+ZM5XSku6JmHvH8JfCFEWdMPKo28w2ysdRvrOA==
-----END PUBLIC KEY-----
";
